-- code = "R12"
-- name = "疑似漏评·低保特困"
-- category = "漏评"
-- department = "民政 + 乡镇"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_members", "poverty_households", "minimum_living"]
-- description = "在保的农村低保或特困供养家庭，其成员无一人纳入建档立卡"
-- evidence = ["name", "id_number", "kind", "state", "persons", "monthly_amount"]
-- dismiss_reasons = ["经民主评议家庭收入高于扶贫标准，不符合识别条件", "已纳入建档立卡，身份信息不一致", "已停保，民政数据尚未更新", "户籍不在本地，不属于本地识别范围", "本户拒绝纳入，有书面说明"]
with covered as (
    select person_no, case_no, name, id_number, village_code, kind, state, monthly_amount
    from cur_minimum_living
    where case_no is not null and case_no <> '' and person_no is not null and person_no <> ''
),

cases as (
    select
        case_no,
        min(person_no) as first_person_no,
        count(*) as persons,
        sum(case when state = '在保' then 1 else 0 end) as covered_persons
    from covered
    group by case_no
),

registered_cases as (
    select distinct covered.case_no
    from covered
    inner join cur_links as base_map on base_map.feed = 'minimum_living' and base_map.record_key = covered.person_no
    inner join cur_registered as registered on registered.person_id = base_map.person_id
),

final as (
    select
        'minimum_living' as subject_feed,
        cases.case_no as subject_key,
        base_map.person_id,
        base_map.household_code,
        null as household_no,
        first_person.village_code,
        'minimum_living' as evidence_feed,
        first_person.person_no as evidence_key,
        first_person.name as ev_name,
        first_person.id_number as ev_id_number,
        first_person.kind as ev_kind,
        first_person.state as ev_state,
        cases.persons as ev_persons,
        first_person.monthly_amount as ev_monthly_amount
    from cases
    inner join covered as first_person on first_person.person_no = cases.first_person_no
    left join cur_links as base_map
        on base_map.feed = 'minimum_living' and base_map.record_key = cases.first_person_no
    where cases.covered_persons > 0
        and not exists (select 1 from registered_cases where registered_cases.case_no = cases.case_no)
)

select * from final
