-- code = "R02"
-- name = "户籍已迁出"
-- category = "数据质量"
-- department = "公安 + 乡镇"
-- deadline_days = 15
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "hukou"]
-- description = "建档立卡在册人员，关联到的户籍记录人口状态为迁出、出国（境）定居或其他注销"
-- evidence = ["name", "id_number", "hukou_name", "hukou_state", "changed_on", "moved_to"]
-- dismiss_reasons = ["户口迁出但本人仍在本地共同生活", "因升学、参军迁出户口，按政策保留", "已迁回，户籍数据尚未更新", "非同一人，身份信息关联错误", "已标注自然减少，扶贫系统尚未同步"]
with registered as (
    select person_id, member_no, household_code, household_no, village_code, name, id_number
    from cur_registered
),

moved_out as (
    select base_map.person_id, min(hukou.person_no) as person_no
    from cur_links as base_map
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
    where base_map.feed = 'hukou' and hukou.state in ('迁出', '出国（境）定居', '其他注销')
    group by base_map.person_id
),

final as (
    select
        'poverty_members' as subject_feed,
        registered.member_no as subject_key,
        registered.person_id,
        registered.household_code,
        registered.household_no,
        coalesce(registered.village_code, hukou.village_code) as village_code,
        'hukou' as evidence_feed,
        hukou.person_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        hukou.name as ev_hukou_name,
        hukou.state as ev_hukou_state,
        hukou.changed_on as ev_changed_on,
        hukou.moved_to as ev_moved_to
    from registered
    inner join moved_out on moved_out.person_id = registered.person_id
    inner join cur_hukou as hukou on hukou.person_no = moved_out.person_no
)

select * from final
