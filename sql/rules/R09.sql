-- code = "R09"
-- name = "住房不达标即脱贫"
-- category = "错退"
-- department = "扶贫 + 住建"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_households", "dangerous_housing"]
-- description = "已脱贫户，户主名下仍有未改造或在建的 C/D 级危房，或易地扶贫搬迁户尚未搬迁入住"
-- evidence = ["status", "exit_year", "relocated", "moved_in", "appraisal_no", "grade", "renovation"]
-- dismiss_reasons = ["脱贫时已通过其他方式保障住房安全", "已搬迁入住，搬迁数据尚未更新", "危房改造已竣工，住建数据尚未更新", "危房非本户住房，关联错误"]
with households as (
    select household_no, village_code, status, exit_year, relocated, moved_in
    from cur_poverty_households
    where status = '已脱贫'
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
        'poverty_households' as evidence_feed,
        households.household_no as evidence_key,
        households.status as ev_status,
        households.exit_year as ev_exit_year,
        households.relocated as ev_relocated,
        households.moved_in as ev_moved_in,
        house.appraisal_no as ev_appraisal_no,
        house.grade as ev_grade,
        house.renovation as ev_renovation
    from households
    left join heads on heads.household_no = households.household_no
    left join cur_unsafe_housing as unsafe on unsafe.person_id = heads.person_id
    left join cur_dangerous_housing as house on house.appraisal_no = unsafe.appraisal_no
    where unsafe.appraisal_no is not null
        or (households.relocated = '是' and coalesce(households.moved_in, '') <> '是')
)

select * from final
