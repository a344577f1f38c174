-- code = "R13"
-- name = "疑似漏评·危房"
-- category = "漏评"
-- department = "住建 + 乡镇"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_members", "poverty_households", "hukou", "dangerous_housing"]
-- description = "鉴定为 C/D 级且未改造或在建的危房，房主本人及其户籍户均未纳入建档立卡"
-- evidence = ["owner_name", "owner_id", "grade", "renovation", "appraised_on", "hukou_no"]
-- dismiss_reasons = ["房屋已改造，住建数据尚未更新", "经民主评议房主家庭收入达标，不符合识别条件", "房屋非房主主要居住用房", "房主已纳入建档立卡，身份信息不一致", "房屋已拆除，不再居住"]
with unsafe_houses as (
    select appraisal_no, owner_name, owner_id, village_code, grade, renovation, appraised_on
    from cur_dangerous_housing
    where grade in ('C', 'D')
        and renovation in ('未改造', '在建')
        and appraisal_no is not null and appraisal_no <> ''
),

owners as (
    select unsafe_houses.*, base_map.person_id, base_map.household_code
    from unsafe_houses
    left join cur_links as base_map
        on base_map.feed = 'dangerous_housing' and base_map.record_key = unsafe_houses.appraisal_no
),

owner_booklets as (
    select distinct owners.appraisal_no, hukou.hukou_no
    from owners
    inner join cur_links as base_map on base_map.person_id = owners.person_id and base_map.feed = 'hukou'
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
    where hukou.hukou_no is not null and hukou.hukou_no <> ''
),

registered_booklets as (
    select distinct hukou.hukou_no
    from cur_registered as registered
    inner join cur_links as base_map on base_map.person_id = registered.person_id and base_map.feed = 'hukou'
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
),

final as (
    select
        'dangerous_housing' as subject_feed,
        owners.appraisal_no as subject_key,
        owners.person_id,
        owners.household_code,
        null as household_no,
        owners.village_code,
        'dangerous_housing' as evidence_feed,
        owners.appraisal_no as evidence_key,
        owners.owner_name as ev_owner_name,
        owners.owner_id as ev_owner_id,
        owners.grade as ev_grade,
        owners.renovation as ev_renovation,
        owners.appraised_on as ev_appraised_on,
        (select min(hukou_no) from owner_booklets where owner_booklets.appraisal_no = owners.appraisal_no)
            as ev_hukou_no
    from owners
    where not exists (select 1 from cur_registered as registered where registered.person_id = owners.person_id)
        and not exists (
            select 1
            from owner_booklets
            inner join registered_booklets on registered_booklets.hukou_no = owner_booklets.hukou_no
            where owner_booklets.appraisal_no = owners.appraisal_no
        )
)

select * from final
