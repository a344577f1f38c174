-- code = "R17"
-- name = "身份证号码无效"
-- category = "数据质量"
-- department = "扶贫"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households"]
-- standardised = ["poverty_members"]
-- description = "建档立卡成员的身份证号为空、清理后不是 18 位、校验码不符（GB 11643）或出生日期不可能"
-- evidence = ["name", "id_number", "id_status"]
-- dismiss_reasons = ["已按户籍更正身份证号", "无户籍人员，正在办理户口登记", "外籍或港澳台居民，使用其他有效证件", "新生儿尚未申领身份证号"]
with invalid as (
    select base_map.person_id, checked.record_key as member_no, checked.id_status
    from std_poverty_members as checked
    inner join cur_links as base_map
        on base_map.feed = 'poverty_members' and base_map.record_key = checked.record_key
    where checked.id_status <> 'valid'
),

per_person as (
    select person_id, min(member_no) as member_no
    from invalid
    group by person_id
),

final as (
    select
        'poverty_members' as subject_feed,
        per_person.member_no as subject_key,
        per_person.person_id,
        base_map.household_code,
        members.household_no,
        households.village_code,
        'poverty_members' as evidence_feed,
        per_person.member_no as evidence_key,
        members.name as ev_name,
        members.id_number as ev_id_number,
        invalid.id_status as ev_id_status
    from per_person
    inner join invalid on invalid.member_no = per_person.member_no
    inner join cur_links as base_map
        on base_map.feed = 'poverty_members' and base_map.record_key = per_person.member_no
    inner join cur_poverty_members as members on members.member_no = per_person.member_no
    left join cur_poverty_households as households on households.household_no = members.household_no
)

select * from final
