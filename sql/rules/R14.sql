-- code = "R14"
-- name = "财政供养人员在册"
-- category = "错评"
-- department = "财政 + 组织"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "public_payroll"]
-- description = "在册人员同时是财政供养人员"
-- evidence = ["name", "id_number", "payroll_name", "employer", "hired_on"]
-- dismiss_reasons = ["非同一人，身份信息关联错误", "已离职、退休或解聘，财政数据尚未更新", "临时聘用的公益性岗位人员，收入未超标准", "已按规定清退并标注"]
with paid as (
    select base_map.person_id, min(payroll.person_no) as person_no
    from cur_links as base_map
    inner join cur_public_payroll as payroll on payroll.person_no = base_map.record_key
    where base_map.feed = 'public_payroll'
    group by base_map.person_id
),

final as (
    select
        'poverty_members' as subject_feed,
        registered.member_no as subject_key,
        registered.person_id,
        registered.household_code,
        registered.household_no,
        registered.village_code,
        'public_payroll' as evidence_feed,
        payroll.person_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        payroll.name as ev_payroll_name,
        payroll.employer as ev_employer,
        payroll.hired_on as ev_hired_on
    from cur_registered as registered
    inner join paid on paid.person_id = registered.person_id
    inner join cur_public_payroll as payroll on payroll.person_no = paid.person_no
)

select * from final
