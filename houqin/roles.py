"""Role keys: stable English identifiers with their Chinese and English labels.

Plan templates name roles; a school binds each role to one accountable person.
The labels come from the seeds (000 篇7/篇8 高考 division of duties, 篇4, 篇5, 001 篇5/篇8).
A plan file may declare further roles of its own under ``roles:``.
"""

from __future__ import annotations

from dataclasses import dataclass

from houqin.bilingual import pick


@dataclass(frozen=True)
class Role:
    key: str
    zh: str
    en: str

    def label(self, lang: str = "zh-CN") -> str:
        return pick(self.zh, self.en, lang)


_ROLES = [
    # leadership
    Role("principal", "校长", "Principal"),
    Role("vice_principal_logistics", "分管副校长", "Vice-principal for logistics"),
    # logistics management
    Role("logistics_head", "后勤主任", "Head of logistics"),
    Role("logistics_supervisor", "后勤主管", "Logistics supervisor"),
    Role("general_affairs_clerk", "事务员", "General-affairs clerk"),
    Role("quality_office", "质量监控办公室", "Quality-monitoring office"),
    # function owners (高考 division of duties, 000 篇7)
    Role("safety_officer", "安全责任人", "Safety officer"),
    Role("security_captain", "保安队长", "Head of security"),
    Role("gate_guard", "门卫", "Gate guard"),
    Role("environment_lead", "环境布置及卫生责任人", "Environment and cleaning lead"),
    Role("canteen_manager", "食堂负责人", "Canteen manager"),
    Role("dorm_manager", "宿管", "Dormitory manager"),
    Role("clinic", "医务室", "School clinic"),
    Role("vehicle_dispatcher", "车辆调度", "Vehicle dispatcher"),
    Role("property_manager", "物业中心负责人", "Property-centre manager"),
    Role("maintenance_lead", "维修组长", "Maintenance lead"),
    Role("electrician", "水电工", "Electrician and plumber"),
    Role("asset_keeper", "固定资产管理员", "Fixed-asset keeper"),
    Role("storekeeper", "仓库保管员", "Storekeeper"),
    Role("finance_officer", "财务人员", "Finance officer"),
    Role("gardener", "花工", "Gardener"),
    # other school units that logistics plans hand work to
    Role("school_office", "校办公室", "School office"),
    Role("academic_affairs", "教务处", "Academic affairs office"),
    Role("it_support", "电教组", "AV and IT support"),
]

ROLES: dict[str, Role] = {r.key: r for r in _ROLES}

# Who an overdue item escalates to after the owner's supervisor (ARCHITECTURE: "leadership").
LEADERSHIP_ROLES = ("principal", "vice_principal_logistics")


def role_label(key: str, lang: str = "zh-CN") -> str:
    role = ROLES.get(key)
    return role.label(lang) if role else key
