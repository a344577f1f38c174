-- view = "registered"
-- feeds = ["poverty_members", "poverty_households"]
-- indexes = ["person_id", "member_no"]
-- description = "在册人员：建档立卡家庭成员中每人一行，以其最小的成员编号为锚（人员类线索的主体）"
with member_links as (
    select record_key as member_no, person_id, household_code
    from cur_links
    where feed = 'poverty_members'
),

anchors as (
    select person_id, min(member_no) as member_no, count(*) as member_rows
    from member_links
    group by person_id
),

members as (
    select member_no, household_no, name, id_number, birth_date, health, schooling, insured
    from cur_poverty_members
),

households as (
    select household_no, min(village_code) as village_code
    from cur_poverty_households
    group by household_no
),

final as (
    select
        anchors.person_id,
        anchors.member_no,
        anchors.member_rows,
        member_links.household_code,
        members.household_no,
        households.village_code,
        members.name,
        members.id_number,
        members.birth_date,
        members.health,
        members.schooling,
        members.insured
    from anchors
    inner join member_links on member_links.member_no = anchors.member_no
    left join members on members.member_no = anchors.member_no
    left join households on households.household_no = members.household_no
)

select * from final
