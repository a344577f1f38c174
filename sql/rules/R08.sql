-- code = "R08"
-- name = "住房安全未保障"
-- category = "三保障"
-- department = "住建"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_households", "dangerous_housing"]
-- description = "建档立卡户户主名下有鉴定为 C 级或 D 级且未改造或在建的危房"
-- evidence = ["head_name", "head_id", "grade", "renovation", "appraised_on"]
-- dismiss_reasons = ["已改造完成，住建数据尚未更新", "已搬迁入住安置房，不再居住该危房", "危房非本户居住用房（附属用房或闲置房）", "户主与房屋所有人非同一人", "已通过租赁或投亲靠友保障住房安全"]
with households as (
    select household_no, min(village_code) as village_code, min(head_name) as head_name, min(head_id) as head_id
    from cur_poverty_households
    group by household_no
),

heads as (
    select record_key as household_no, person_id, household_code
    from cur_links
    where feed = 'poverty_households'
),

final as (
    select
        'poverty_households' as subject_feed,
        households.household_no as subject_key,
        heads.person_id,
        heads.household_code,
        households.household_no,
        coalesce(households.village_code, house.village_code) as village_code,
        'dangerous_housing' as evidence_feed,
        house.appraisal_no as evidence_key,
        households.head_name as ev_head_name,
        households.head_id as ev_head_id,
        house.grade as ev_grade,
        house.renovation as ev_renovation,
        house.appraised_on as ev_appraised_on
    from households
    inner join heads on heads.household_no = households.household_no
    inner join cur_unsafe_housing as unsafe on unsafe.person_id = heads.person_id
    inner join cur_dangerous_housing as house on house.appraisal_no = unsafe.appraisal_no
)

select * from final
