-- code = "R07"
-- name = "大病未标注"
-- category = "三保障"
-- department = "卫健"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "illness_registry"]
-- description = "在册人员在卫健大病登记中有记录，扶贫系统健康状况却填为健康"
-- evidence = ["name", "id_number", "health", "illness_kind", "disease", "diagnosed_on"]
-- dismiss_reasons = ["已治愈，健康状况填写无误", "非同一人，身份信息关联错误", "疾病类别登记有误，不属于大病", "已更正健康状况，系统尚未同步"]
with serious as (
    select base_map.person_id, min(illness.registry_no) as registry_no
    from cur_links as base_map
    inner join cur_illness_registry as illness on illness.registry_no = base_map.record_key
    where base_map.feed = 'illness_registry' and illness.kind = '大病'
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
        'illness_registry' as evidence_feed,
        illness.registry_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        registered.health as ev_health,
        illness.kind as ev_illness_kind,
        illness.disease as ev_disease,
        illness.diagnosed_on as ev_diagnosed_on
    from cur_registered as registered
    inner join serious on serious.person_id = registered.person_id
    inner join cur_illness_registry as illness on illness.registry_no = serious.registry_no
    where registered.health = '健康'
)

select * from final
