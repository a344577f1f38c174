-- code = "R18"
-- name = "人证信息不一致"
-- category = "数据质量"
-- department = "扶贫 + 公安"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "hukou"]
-- standardised = ["poverty_members", "hukou"]
-- description = "建档立卡成员的有效身份证号与某条户籍记录相同，但姓名（规范化后）或出生日期不一致"
-- evidence = ["name", "id_number", "birth_date", "hukou_name", "hukou_birth_date"]
-- dismiss_reasons = ["已按户籍信息更正姓名或出生日期", "身份证号录入错误（录成他人号码），已更正", "户籍信息有误，已提请公安更正", "使用曾用名，已备注"]
with members as (
    select checked.record_key as member_no, checked.id_clean, checked.name_norm, member.birth_date
    from std_poverty_members as checked
    inner join cur_poverty_members as member on member.member_no = checked.record_key
    where checked.id_status = 'valid'
),

holders as (
    select checked.record_key as person_no, checked.id_clean, checked.name_norm, hukou.birth_date
    from std_hukou as checked
    inner join cur_hukou as hukou on hukou.person_no = checked.record_key
    where checked.id_status = 'valid'
),

mismatches as (
    select members.member_no, min(holders.person_no) as person_no
    from members
    inner join holders on holders.id_clean = members.id_clean
    where members.name_norm <> holders.name_norm
        or coalesce(members.birth_date, '') <> coalesce(holders.birth_date, '')
    group by members.member_no
),

per_person as (
    select base_map.person_id, min(mismatches.member_no) as member_no
    from mismatches
    inner join cur_links as base_map
        on base_map.feed = 'poverty_members' and base_map.record_key = mismatches.member_no
    group by base_map.person_id
),

final as (
    select
        'poverty_members' as subject_feed,
        per_person.member_no as subject_key,
        per_person.person_id,
        base_map.household_code,
        member.household_no,
        households.village_code,
        'hukou' as evidence_feed,
        hukou.person_no as evidence_key,
        member.name as ev_name,
        member.id_number as ev_id_number,
        member.birth_date as ev_birth_date,
        hukou.name as ev_hukou_name,
        hukou.birth_date as ev_hukou_birth_date
    from per_person
    inner join mismatches on mismatches.member_no = per_person.member_no
    inner join cur_links as base_map
        on base_map.feed = 'poverty_members' and base_map.record_key = per_person.member_no
    inner join cur_poverty_members as member on member.member_no = per_person.member_no
    inner join cur_hukou as hukou on hukou.person_no = mismatches.person_no
    left join cur_poverty_households as households on households.household_no = member.household_no
)

select * from final
