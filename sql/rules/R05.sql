-- code = "R05"
-- name = "义务教育阶段疑似失学辍学"
-- category = "三保障"
-- department = "教育"
-- deadline_days = 15
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "hukou", "school_enrolment"]
-- description = "在册适龄儿童（6–15 周岁）未见在读或休学的学籍记录"
-- evidence = ["name", "id_number", "birth_date", "schooling", "school_state", "school"]
-- dismiss_reasons = ["在外省就读", "送教上门", "已出国（境）", "已死亡", "身份信息错误"]
-- age_ranges = { school = [6, 15] }
with hukou_facts as (
    select
        registered.person_id,
        min(hukou.birth_date) as birth_date,
        max(case when hukou.state = '死亡' then 1 else 0 end) as deceased
    from cur_registered as registered
    inner join cur_links as base_map on base_map.person_id = registered.person_id and base_map.feed = 'hukou'
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
    group by registered.person_id
),

school_facts as (
    select
        registered.person_id,
        max(case when school.state in ('在读', '休学') then 1 else 0 end) as in_school,
        min(school.student_no) as student_no,
        min(school.state) as state,
        min(school.school) as school
    from cur_registered as registered
    inner join cur_links as base_map
        on base_map.person_id = registered.person_id and base_map.feed = 'school_enrolment'
    inner join cur_school_enrolment as school on school.student_no = base_map.record_key
    group by registered.person_id
),

children as (
    select
        registered.*,
        -- The police record's birth date first: the registry's own is typed by hand.
        coalesce(hukou_facts.birth_date, registered.birth_date) as known_birth_date,
        school_facts.student_no,
        school_facts.state as school_state,
        school_facts.school
    from cur_registered as registered
    left join hukou_facts on hukou_facts.person_id = registered.person_id
    left join school_facts on school_facts.person_id = registered.person_id
    where coalesce(hukou_facts.deceased, 0) = 0
        and coalesce(school_facts.in_school, 0) = 0
),

final as (
    select
        'poverty_members' as subject_feed,
        member_no as subject_key,
        person_id,
        household_code,
        household_no,
        village_code,
        'poverty_members' as evidence_feed,
        member_no as evidence_key,
        name as ev_name,
        id_number as ev_id_number,
        known_birth_date as ev_birth_date,
        schooling as ev_schooling,
        school_state as ev_school_state,
        school as ev_school
    from children
    where length(known_birth_date) = 10
        and known_birth_date between :school_born_from and :school_born_to
)

select * from final
