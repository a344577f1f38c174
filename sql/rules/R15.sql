-- code = "R15"
-- name = "企业法人在册"
-- category = "错评"
-- department = "市场监管"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "enterprise_registry"]
-- description = "在册人员是登记状态为存续或在业的企业的法定代表人"
-- evidence = ["name", "id_number", "enterprise_name", "enterprise_state", "registered_capital", "founded_on"]
-- dismiss_reasons = ["企业已停止经营，未取得经营收入", "身份被冒用登记为法定代表人", "非同一人，身份信息关联错误", "企业已注销，市场监管数据尚未更新", "小微经营收入未超标准，经民主评议保留"]
with owners as (
    select base_map.person_id, min(enterprise.credit_code) as credit_code
    from cur_links as base_map
    inner join cur_enterprise_registry as enterprise on enterprise.credit_code = base_map.record_key
    where base_map.feed = 'enterprise_registry' and enterprise.state in ('存续', '在业')
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
        'enterprise_registry' as evidence_feed,
        enterprise.credit_code as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        enterprise.enterprise_name as ev_enterprise_name,
        enterprise.state as ev_enterprise_state,
        enterprise.registered_capital as ev_registered_capital,
        enterprise.founded_on as ev_founded_on
    from cur_registered as registered
    inner join owners on owners.person_id = registered.person_id
    inner join cur_enterprise_registry as enterprise on enterprise.credit_code = owners.credit_code
)

select * from final
