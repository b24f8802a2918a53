"""What the Wuzhi County Environmental Protection Bureau contributes: its department and its
cooperating check items on the inspection-and-testing-bodies matter (row 4 of the appendix,
led by market supervision), which apply to bodies doing environmental monitoring
(生态环境监测机构). It leads no matter of its own in the first joint matter list."""
from __future__ import annotations

from gateway.plugins import CheckItem, Department, items_for

MATTER_CODE = "testing_bodies"
# The category value of market supervision's item ``tb_body_category`` that makes these items apply.
ENVIRONMENTAL_CATEGORY = "生态环境监测"
CATEGORY_ITEM = "tb_body_category"

DEPARTMENT = Department(
    code="environment",
    name="武陟县环境保护局",
    parent_code="jiaozuo_environment",
    short_name="县环保局",
)

_EPL = "《中华人民共和国环境保护法》"
_SUPPLEMENT = "《检验检测机构资质认定生态环境监测机构评审补充要求》（国市监检测〔2018〕245号）"

COOPERATING_ITEMS = items_for(
    MATTER_CODE,
    DEPARTMENT.code,
    CheckItem(
        code="env_monitoring_standards",
        beyond_appendix=True,
        name="执行环境监测标准和技术规范",
        content="采样、样品保存和运输、分析测试是否执行国家生态环境监测标准和技术规范；现场采样是否有采样记录、"
        "影像资料等可追溯证据。",
        legal_basis=(f"{_EPL}第十七条", _SUPPLEMENT),
        methods=("书面检查", "实地核查"),
        help_text="抽取监测报告，核对所用方法标准的现行有效性和现场采样记录。从事非环境监测业务的机构选“不涉及”。",
    ),
    CheckItem(
        code="env_monitoring_equipment",
        beyond_appendix=True,
        name="监测设备",
        content="是否使用符合国家标准的监测设备，监测仪器是否按规定检定或者校准并在有效期内，"
        "自动监测设备是否正常运行。",
        legal_basis=(f"{_EPL}第十七条",),
        methods=("实地核查",),
        help_text="查看设备状态标识、检定校准证书和使用维护记录。",
    ),
    CheckItem(
        code="env_quality_control",
        beyond_appendix=True,
        name="监测质量控制",
        content="是否按标准和技术规范实施全程序质量控制（全程序空白、平行样、加标回收、质控样等），质控记录是否完整。",
        legal_basis=(_SUPPLEMENT,),
        methods=("书面检查",),
        help_text="对抽查报告逐份核对质控结果是否满足方法要求。",
    ),
    CheckItem(
        code="env_data_authenticity",
        beyond_appendix=True,
        name="监测数据真实性",
        content="是否存在篡改、伪造监测数据或者出具虚假监测报告的情况。",
        legal_basis=(
            f"{_EPL}第十七条、第六十五条",
            "《环境监测数据弄虚作假行为判定及处理办法》（环发〔2015〕175号）",
        ),
        methods=("书面检查", "信息比对"),
        help_text="比对原始记录、仪器存储数据和报告数据；发现弄虚作假的，移送有关部门依法处理。",
    ),
)

