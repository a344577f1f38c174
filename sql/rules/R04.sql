-- code = "R04"
-- name = "未整户识别"
-- category = "漏评"
-- department = "扶贫 + 公安"
-- deadline_days = 30
-- subject = "household"
-- feeds = ["poverty_members", "poverty_households", "hukou"]
-- description = "建档立卡户户主所在户籍户中，有人口状态正常的家庭成员未纳入任何建档立卡户"
-- evidence = ["head_name", "head_id", "hukou_no", "left_out_persons", "left_out_name", "left_out_id_number"]
-- dismiss_reasons = ["该成员已分户另立且有独立生活来源", "该成员为挂靠户口，不在本户共同生活", "该成员已纳入其他建档立卡户，身份信息不一致", "该成员已死亡或迁出，户籍尚未注销", "户主户籍关联错误，非同一户"]
with households as (
    select household_no, min(village_code) as village_code, min(head_name) as head_name, min(head_id) as head_id
    from cur_poverty_households
    group by household_no
),

heads as (
    select record_key as household_no, person_id, household_code
    from cur_links
    where feed = 'poverty_households'
),

head_booklets as (
    select distinct heads.household_no, hukou.hukou_no
    from heads
    inner join cur_links as base_map on base_map.person_id = heads.person_id and base_map.feed = 'hukou'
    inner join cur_hukou as hukou on hukou.person_no = base_map.record_key
    where hukou.hukou_no is not null and hukou.hukou_no <> ''
),

left_out as (
    select head_booklets.household_no, head_booklets.hukou_no, hukou.person_no
    from head_booklets
    inner join cur_hukou as hukou on hukou.hukou_no = head_booklets.hukou_no
    inner join cur_links as base_map on base_map.feed = 'hukou' and base_map.record_key = hukou.person_no
    where hukou.state = '正常'
        and not exists (
            select 1 from cur_registered as registered where registered.person_id = base_map.person_id
        )
),

summary as (
    select household_no, min(hukou_no) as hukou_no, min(person_no) as person_no, count(distinct person_no) as persons
    from left_out
    group by household_no
),

final as (
    select
        'poverty_households' as subject_feed,
        households.household_no as subject_key,
        heads.person_id,
        heads.household_code,
        households.household_no,
        coalesce(households.village_code, hukou.village_code) as village_code,
        'hukou' as evidence_feed,
        summary.person_no as evidence_key,
        households.head_name as ev_head_name,
        households.head_id as ev_head_id,
        summary.hukou_no as ev_hukou_no,
        summary.persons as ev_left_out_persons,
        hukou.name as ev_left_out_name,
        hukou.id_number as ev_left_out_id_number
    from summary
    inner join households on households.household_no = summary.household_no
    inner join heads on heads.household_no = summary.household_no
    inner join cur_hukou as hukou on hukou.person_no = summary.person_no
)

select * from final
