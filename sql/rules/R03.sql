-- code = "R03"
-- name = "一人多户"
-- category = "数据质量"
-- department = "扶贫"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households"]
-- description = "同一人是两个及以上建档立卡户的成员，或在同一户中登记了两次"
-- evidence = ["name", "id_number", "member_rows", "households", "household_nos"]
-- dismiss_reasons = ["非同一人（同名同出生日期）", "身份证号录入错误，已更正", "分户后原户成员未删除，已处理", "婚嫁迁入新户，原户已标注减少"]
with listings as (
    select base_map.person_id, members.member_no, members.household_no
    from cur_links as base_map
    inner join cur_poverty_members as members on members.member_no = base_map.record_key
    where base_map.feed = 'poverty_members'
),

repeated as (
    select
        person_id,
        count(*) as member_rows,
        count(distinct household_no) as households,
        min(household_no) as first_household_no,
        max(household_no) as last_household_no,
        max(member_no) as last_member_no
    from listings
    group by person_id
    having count(*) >= 2
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
        repeated.last_member_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        repeated.member_rows as ev_member_rows,
        repeated.households as ev_households,
        repeated.first_household_no || '、' || repeated.last_household_no as ev_household_nos
    from cur_registered as registered
    inner join repeated on repeated.person_id = registered.person_id
)

select * from final
