-- code = "R10"
-- name = "当年识别当年退出"
-- category = "错退"
-- department = "扶贫"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_households"]
-- description = "建档立卡户的识别年度与脱贫年度相同"
-- evidence = ["head_name", "status", "identified_year", "exit_year"]
-- dismiss_reasons = ["经认定当年已稳定达到退出标准，退出程序完备", "识别年度或脱贫年度录入错误，已更正", "返贫后重新识别再退出，年度记录有误"]
with households as (
    select household_no, village_code, head_name, status, identified_year, exit_year
    from cur_poverty_households
    where exit_year is not null and exit_year <> ''
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
        households.village_code,
        'poverty_households' as evidence_feed,
        households.household_no as evidence_key,
        households.head_name as ev_head_name,
        households.status as ev_status,
        households.identified_year as ev_identified_year,
        households.exit_year as ev_exit_year
    from households
    left join heads on heads.household_no = households.household_no
    where households.identified_year = households.exit_year
)

select * from final
