-- code = "R11"
-- name = "低保金计入脱贫收入"
-- category = "错退"
-- department = "扶贫 + 民政"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_households"]
-- description = "已脱贫户的人均纯收入扣除人均低保金后，低于脱贫年度的扶贫标准"
-- evidence = ["head_name", "exit_year", "income_per_capita", "dibao_income", "size", "poverty_line"]
-- dismiss_reasons = ["人均纯收入录入错误，已更正", "低保金录入错误，已更正", "家庭人口数录入错误，已更正", "另有未登记的稳定收入，扣除低保金后仍达标"]
with households as (
    select
        household_no, village_code, head_name, exit_year, income_per_capita, size,
        coalesce(nullif(dibao_income, ''), '0') as dibao_income
    from cur_poverty_households
    where status = '已脱贫'
),

-- Only cells that are plain numbers are read as numbers; anything else is validation's finding.
checked as (
    select
        households.*,
        case when ltrim(income_per_capita, '0123456789.') = '' and income_per_capita <> ''
            and ltrim(dibao_income, '0123456789.') = ''
            and ltrim(size, '0123456789') = '' and size <> ''
            then 1 else 0 end as readable
    from households
),

amounts as (
    select
        checked.*,
        case when readable = 1 then cast(income_per_capita as double precision) end as income,
        case when readable = 1 then cast(dibao_income as double precision) end as dibao,
        case when readable = 1 then cast(size as double precision) end as persons
    from checked
),

heads as (
    select record_key as household_no, person_id, household_code
    from cur_links
    where feed = 'poverty_households'
),

final as (
    select
        'poverty_households' as subject_feed,
        amounts.household_no as subject_key,
        heads.person_id,
        heads.household_code,
        amounts.household_no,
        amounts.village_code,
        'poverty_households' as evidence_feed,
        amounts.household_no as evidence_key,
        amounts.head_name as ev_head_name,
        amounts.exit_year as ev_exit_year,
        amounts.income_per_capita as ev_income_per_capita,
        amounts.dibao_income as ev_dibao_income,
        amounts.size as ev_size,
        lines.line as ev_poverty_line
    from amounts
    inner join ref_poverty_lines as lines on lines.year = amounts.exit_year
    left join heads on heads.household_no = amounts.household_no
    -- income − dibao / persons < line, multiplied through by persons (> 0)
    where amounts.persons > 0
        and amounts.income * amounts.persons - amounts.dibao < lines.line * amounts.persons
)

select * from final
