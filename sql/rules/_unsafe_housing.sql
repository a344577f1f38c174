-- view = "unsafe_housing"
-- feeds = ["dangerous_housing"]
-- indexes = ["person_id"]
-- description = "住房不安全的人：名下有鉴定为 C、D 级且未改造或在建的危房，每人一行（R08、R09 共用）"
with houses as (
    select appraisal_no, grade, renovation
    from cur_dangerous_housing
    where grade in ('C', 'D')
        and renovation in ('未改造', '在建')
),

final as (
    select base_map.person_id, min(houses.appraisal_no) as appraisal_no
    from cur_links as base_map
    inner join houses on houses.appraisal_no = base_map.record_key
    where base_map.feed = 'dangerous_housing'
    group by base_map.person_id
)

select * from final
