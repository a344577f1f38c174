-- code = "R06"
-- name = "未参加基本医保"
-- category = "三保障"
-- department = "医保"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "hukou", "medical_insurance"]
-- description = "在册且在世的人员，没有本年度（数据日期所在年度）正常参保的城乡居民医保记录"
-- evidence = ["name", "id_number", "insured", "no_cover_year", "insurance_rows", "last_year", "last_state"]
-- dismiss_reasons = ["已参加职工医保或在外地参保", "现役军人，享受军人医疗保障", "新生儿，正在办理参保", "已死亡", "身份信息错误，实际已参保"]
with deceased as (
    select distinct registered.person_id
    from cur_registered as registered
    inner join cur_links as base_map on base_map.person_id = registered.person_id and base_map.feed = 'hukou'
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
    where hukou.state = '死亡'
),

insurance as (
    select
        registered.person_id,
        count(*) as insurance_rows,
        max(case when insured.year = :d_year and insured.state = '正常参保' then 1 else 0 end) as insured_now,
        max(insured.year) as last_year
    from cur_registered as registered
    inner join cur_links as base_map
        on base_map.person_id = registered.person_id and base_map.feed = 'medical_insurance'
    inner join cur_medical_insurance as insured on insured.insured_no = base_map.record_key
    group by registered.person_id
),

last_states as (
    select insurance.person_id, min(insured.state) as last_state
    from insurance
    inner join cur_links as base_map
        on base_map.person_id = insurance.person_id and base_map.feed = 'medical_insurance'
    inner join cur_medical_insurance as insured
        on insured.insured_no = base_map.record_key and insured.year = insurance.last_year
    where insurance.insured_now = 0
    group by insurance.person_id
),

final as (
    select
        'poverty_members' as subject_feed,
        registered.member_no as subject_key,
        registered.person_id,
        registered.household_code,
        registered.household_no,
        registered.village_code,
        'poverty_members' as evidence_feed,
        registered.member_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        registered.insured as ev_insured,
        -- The year checked, so "最近参保状态 正常参保" of an earlier year cannot read as covered now.
        :d_year as ev_no_cover_year,
        coalesce(insurance.insurance_rows, 0) as ev_insurance_rows,
        insurance.last_year as ev_last_year,
        last_states.last_state as ev_last_state
    from cur_registered as registered
    left join insurance on insurance.person_id = registered.person_id
    left join last_states on last_states.person_id = registered.person_id
    where coalesce(insurance.insured_now, 0) = 0
        and not exists (select 1 from deceased where deceased.person_id = registered.person_id)
)

select * from final
