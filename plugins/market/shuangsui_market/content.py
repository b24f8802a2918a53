"""What the Wuzhi County Market Supervision Administration contributes.

- Its department.
- The matter it leads: inspection and testing bodies (row 4 of the appendix, 检验检测机构检查).
- Its cooperating check items on the other three appendix matters: registration and licence
  items on refined oil (row 1) and crop seed (row 2), and item 6 企业登记事项检查 on work
  safety (row 3).
"""
from __future__ import annotations

from decimal import Decimal

from gateway.plugins import CheckItem, Department, Matter, TargetCriteria, items_for

DEPARTMENT = Department(
    code="market",
    name="武陟县市场监督管理局",
    parent_code="jiaozuo_market",
    short_name="县市场监管局",
    registration_authority=True,
)

# Licence name exactly as recorded on targets (matched verbatim).
TESTING_LICENCE = "检验检测机构资质认定证书"

BODY_CATEGORIES = ("生态环境监测", "建设工程质量检测", "机动车检验", "食品检验", "产品质量检验", "其他")
ENVIRONMENTAL_CATEGORY = "生态环境监测"

_QUALIFICATION_RULES = (
    "《检验检测机构资质认定管理办法》（2015年国家质量监督检验检疫总局令第163号公布，"
    "2021年国家市场监督管理总局令第38号修改）"
)
_SUPERVISION_RULES = "《检验检测机构监督管理办法》（国家市场监督管理总局令第39号）"
_REGISTRATION_RULES = "《中华人民共和国市场主体登记管理条例》（国务院令第746号）"
_PUBLICITY_RULES = "《企业信息公示暂行条例》（国务院令第654号）"

_LEAD_ITEMS = (
    CheckItem(
        code="tb_qualification",
        beyond_appendix=True,
        name="资质认定证书和能力范围",
        content="是否取得检验检测机构资质认定证书并在有效期内；是否超出资质认定证书规定的检验检测能力范围"
        "向社会出具具有证明作用的数据、结果；是否按规定使用资质认定标志；机构名称、地址、法定代表人、"
        "授权签字人等事项变更是否依法办理变更手续。",
        legal_basis=("《中华人民共和国计量法》第二十二条", _QUALIFICATION_RULES),
        methods=("书面检查", "信息比对"),
        help_text="核对证书附表的能力范围与抽查报告的检验检测项目和方法。",
    ),
    CheckItem(
        code="tb_conditions",
        beyond_appendix=True,
        name="基本条件和技术能力",
        content="检验检测技术人员和管理人员、固定工作场所和环境条件、检验检测设备设施是否持续符合资质认定条件；"
        "仪器设备是否按规定检定或者校准并在有效期内。",
        legal_basis=(f"{_QUALIFICATION_RULES}第九条",),
        methods=("实地核查", "书面检查"),
        help_text="现场查看实验室环境和设备状态标识，抽查人员授权和设备检定校准证书。",
    ),
    CheckItem(
        code="tb_management_system",
        beyond_appendix=True,
        name="管理体系运行",
        content="是否建立并有效运行保证检验检测活动独立、公正、科学、诚信的管理体系；是否按计划开展内部审核和管理评审。",
        legal_basis=(
            f"{_QUALIFICATION_RULES}第九条第（五）项",
            "《检验检测机构资质认定能力评价 检验检测机构通用要求》（RB/T 214）",
        ),
        methods=("书面检查",),
        help_text="查阅管理体系文件、最近一次内部审核和管理评审记录。",
    ),
    CheckItem(
        code="tb_reports",
        beyond_appendix=True,
        name="检验检测报告",
        content="抽查的检验检测报告是否存在不实或者虚假情形（未经检验检测即出具报告、伪造变造原始数据和记录、"
        "减少或者变更应当检验检测的项目、调换样品、伪造授权签字人签名等）；报告是否由授权签字人签发。",
        legal_basis=(f"{_SUPERVISION_RULES}第十三条、第十四条、第二十六条",),
        methods=("书面检查", "实地核查"),
        help_text="从报告台账随机抽取报告，逐份追溯委托单、样品记录、原始记录和设备使用记录。"
        "判定为“不符合”的，须记录抽查报告份数。",
    ),
    CheckItem(
        code="tb_records",
        beyond_appendix=True,
        name="原始记录和报告归档",
        content="检验检测原始记录和报告是否按规定归档留存、保存期限不少于6年，能否保证可追溯。",
        legal_basis=(_SUPERVISION_RULES,),
        methods=("书面检查",),
        help_text="调取6年内的历史报告及其原始记录，核验可追溯性。",
    ),
    CheckItem(
        code="tb_reports_reviewed",
        beyond_appendix=True,
        name="抽查报告份数",
        content="本次检查抽查的检验检测报告份数。",
        methods=("书面检查",),
        kind="integer",
        help_text="一般不少于5份，业务量小的机构全部抽查。",
    ),
    CheckItem(
        code="tb_body_category",
        beyond_appendix=True,
        name="机构类别",
        content="检验检测机构的主要业务领域。",
        methods=("书面检查",),
        kind="choice",
        choices=BODY_CATEGORIES,
        help_text="从事生态环境监测的机构选择“生态环境监测”，环境保护部门的检查项随之适用。",
    ),
    CheckItem(
        code="tb_problem_description",
        beyond_appendix=True,
        name="问题描述",
        content="发现问题时，写明问题事实、涉及的报告编号、证据和整改要求。",
        kind="text",
        required=False,
        help_text="任一检查项为“不符合”时必填。",
    ),
)


MATTER = Matter(
    code="testing_bodies",
    field="环境监测机构双随机监督抽查",
    name="检验检测机构检查",
    appendix_text="检验检测机构检查",
    department_code=DEPARTMENT.code,
    check_items=_LEAD_ITEMS,
    legal_basis=(
        "《中华人民共和国计量法》第二十二条",
        f"{_QUALIFICATION_RULES}第九条",
        f"{_SUPERVISION_RULES}第十三条、第十四条、第二十六条",
    ),
    min_ratio=Decimal("0.05"),
    frequency="每年不少于1次",
    methods=("实地核查", "书面检查", "信息比对"),
    criteria=TargetCriteria(
        target_types=("enterprise", "other_unit"),
        required_licences=(TESTING_LICENCE,),
        scope_keywords=("检验", "检测", "监测"),
    ),
    target_description="检验检测机构",
    county_defaults=("min_ratio", "frequency", "criteria"),
    version="2",
)


def _registration_item(code: str, extra: str = "", order: int = 0, beyond_appendix: bool = True) -> CheckItem:
    return CheckItem(
        code=code,
        beyond_appendix=beyond_appendix,
        name="企业登记事项检查",
        content="营业执照登记的名称、住所（经营场所）、经营范围、法定代表人（负责人）等登记事项与实际情况是否一致；"
        "登记事项发生变化是否依法办理变更登记；营业执照是否置于住所或者主要经营场所的醒目位置。" + extra,
        legal_basis=(f"{_REGISTRATION_RULES}第八条、第二十四条、第四十六条",),
        methods=("实地核查", "信息比对"),
        help_text="以国家企业信用信息公示系统的登记信息为准，现场核对营业执照和实际经营地址。",
        order=order,
    )


def _publicity_item(code: str) -> CheckItem:
    return CheckItem(
        code=code,
        beyond_appendix=True,
        name="企业信息公示",
        content="是否按时报送并公示上一年度年度报告；行政许可取得、变更、延续等信息是否自形成之日起20个工作日内"
        "通过国家企业信用信息公示系统向社会公示；公示信息是否真实、及时。",
        legal_basis=(f"{_PUBLICITY_RULES}第八条、第十条",),
        methods=("信息比对", "书面检查"),
        help_text="比对公示系统中的年报、许可信息与检查对象实际持有的证照。",
    )


COOPERATING_ITEMS = (
    # Row 1, refined oil: registration, licence publicity, product quality and measurement.
    *items_for(
        "refined_oil",
        DEPARTMENT.code,
        _registration_item("mkt_oil_registration", "经营范围应当包含成品油零售（或批发、仓储）。"),
        _publicity_item("mkt_oil_publicity"),
        CheckItem(
            code="mkt_oil_quality",
            beyond_appendix=True,
            name="成品油质量",
            content="是否建立并执行进货检查验收制度，验明油品合格证明；是否存在掺杂掺假、以次充好、"
            "以不合格油品冒充合格油品的情况。",
            legal_basis=(
                "《中华人民共和国产品质量法》第三十三条、第三十九条",
                "《中华人民共和国大气污染防治法》第一百零三条",
            ),
            methods=("书面检查", "抽样检验"),
            help_text="需要判定油品质量的，按产品质量监督抽查程序抽样，送有资质的检验机构检验。",
        ),
        CheckItem(
            code="mkt_oil_metering",
            beyond_appendix=True,
            name="加油机计量",
            content="在用加油机是否经强制检定合格并在检定周期内，铅封是否完好，是否存在改动计量器具、安装作弊装置的情况。",
            legal_basis=(
                "《中华人民共和国计量法》第九条",
                "《加油站计量监督管理办法》（国家质量监督检验检疫总局令第35号）",
            ),
            methods=("实地核查",),
            help_text="逐台查看检定合格标志和铅封，必要时用标准量器现场核查。",
        ),
    ),
    # Row 2, crop seed: registration and licence publicity.
    *items_for(
        "crop_seed",
        DEPARTMENT.code,
        _registration_item("mkt_seed_registration", "经营范围应当包含农作物种子生产、经营。"),
        _publicity_item("mkt_seed_publicity"),
    ),
    # Row 3, work safety: the appendix's item 6.
    *items_for("work_safety", DEPARTMENT.code, _registration_item("mkt_ws_registration", order=6, beyond_appendix=False)),
)

GUIDE_TEXT = """\
检验检测机构联合抽查检查指引（武陟县市场监督管理局）
一、检查前：在资质认定信息系统查询检查对象的资质认定证书、能力附表、变更记录和以往检查记录；从生态环境监测业务的机构，通知环境保护部门的检查人员参加。
二、亮证：检查人员不少于两人，出示执法证件，说明检查依据和事项。
三、资质与能力：核对证书有效期和能力附表，现场查看人员、环境和设备设施，抽查设备检定校准证书。
四、管理体系：查阅体系文件、内部审核和管理评审记录。
五、报告抽查：从报告台账随机抽取报告（一般不少于5份），逐份追溯委托、样品、原始记录和设备使用记录，判定是否存在不实或者虚假报告；核验6年内记录的归档留存。
六、反馈：当场向检查对象反馈检查情况，由其签字确认；拒绝签字的，在检查表中注明。
七、处置：发现不实或者虚假报告等违法行为的，依法立案查处，并于检查结束后20个工作日内录入检查结果。
"""
