-- code = "R16"
-- name = "购置车辆"
-- category = "错评"
-- department = "公安交管"
-- deadline_days = 30
-- subject = "person"
-- feeds = ["poverty_members", "poverty_households", "vehicles"]
-- description = "在册人员名下登记有小型轿车或小型普通客车"
-- evidence = ["name", "id_number", "plate_no", "vehicle_type", "registered_on"]
-- dismiss_reasons = ["车辆用于生产经营（如跑运输）", "车辆已转让或报废，交管数据尚未更新", "非同一人，身份信息关联错误", "身份被冒用登记车辆", "低价二手车，经民主评议保留"]
with cars as (
    select base_map.person_id, min(vehicle.plate_no) as plate_no
    from cur_links as base_map
    inner join cur_vehicles as vehicle on vehicle.plate_no = base_map.record_key
    where base_map.feed = 'vehicles' and vehicle.vehicle_type in ('小型轿车', '小型普通客车')
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
        'vehicles' as evidence_feed,
        vehicle.plate_no as evidence_key,
        registered.name as ev_name,
        registered.id_number as ev_id_number,
        vehicle.plate_no as ev_plate_no,
        vehicle.vehicle_type as ev_vehicle_type,
        vehicle.registered_on as ev_registered_on
    from cur_registered as registered
    inner join cars on cars.person_id = registered.person_id
    inner join cur_vehicles as vehicle on vehicle.plate_no = cars.plate_no
)

select * from final
