"""What the Wuzhi County Commerce Bureau contributes: its department and the refined-oil matter.

Row 1 of the appendix of the Wuzhi joint-inspection rules (成品油市场监管). The licence and
operating conditions are one group of items; each violation the appendix lists (illegal
transfer of the approval certificate, unlicensed new / moved / enlarged stations or depots,
purchase and sale invoices, internal rules, fuel upgrade) is a check item of its own.

Legal basis note: 《成品油市场管理办法》(商务部令2006年第23号) was repealed by the Ministry of
Commerce in 2020; the matter therefore cites 《成品油流通管理办法》(商务部令2025年第4号, in
force since 1 September 2025) and the laws that stand behind it.
"""
from __future__ import annotations

from decimal import Decimal

from gateway.plugins import CheckItem, Department, Matter, TargetCriteria

DEPARTMENT = Department(
    code="commerce",
    name="武陟县商务局",
    parent_code="jiaozuo_commerce",
    short_name="县商务局",
)

# Licence names exactly as they are recorded on targets (matched verbatim, see TargetCriteria).
RETAIL_CERTIFICATE = "成品油零售经营批准证书"
WHOLESALE_CERTIFICATE = "成品油批发经营批准证书"
STORAGE_CERTIFICATE = "成品油仓储经营批准证书"
GENERIC_CERTIFICATE = "成品油经营批准证书"
LICENCES = (RETAIL_CERTIFICATE, WHOLESALE_CERTIFICATE, STORAGE_CERTIFICATE, GENERIC_CERTIFICATE)

BUSINESS_TYPES = ("零售", "批发", "仓储")

_LICENCE_LAW = "《成品油流通管理办法》（商务部令2025年第4号）第三条、第十条"
_PERMIT_LAW = "《中华人民共和国行政许可法》第八十条、第八十一条"
_AIR_LAW = "《中华人民共和国大气污染防治法》第六十五条、第一百零三条"
_INVOICE_LAW = "《中华人民共和国发票管理办法》第十九条、第二十条"

APPENDIX_TEXT = ("1. 成品油经营资质，即是否具备经营条件。2. 成品油经营违法违规情况，即检查是否非法转让成品油经营批准证书、"
                 "未经许可擅自新建、迁建和扩建加油站或油库、购销票据、制度制定、油品升级情况等。")

_ITEMS = (
    CheckItem(
        code="oil_licence",
        name="成品油经营资质",
        content="是否取得成品油零售经营批准证书并在有效期内；证载企业名称、经营地址、经营类别与实际经营一致；"
        "证书正本在经营场所显著位置悬挂。",
        legal_basis=(_LICENCE_LAW, "《国务院对确需保留的行政审批项目设定行政许可的决定》（国务院令第412号）附件第183项"),
        methods=("书面检查", "信息比对"),
        help_text="查验批准证书原件，与全国石油市场管理信息系统中的许可信息比对。",
    ),
    CheckItem(
        code="oil_operating_conditions",
        name="是否具备经营条件",
        content="是否持续具备许可时的经营条件：加油站（油库）设施、储油罐及加油机、安全和消防设施、"
        "专业人员等与许可时一致，未发生降低许可条件的变化。",
        legal_basis=(_LICENCE_LAW,),
        methods=("实地核查", "书面检查"),
        help_text="对照许可档案实地核对储罐数量与容积、加油机台数、站内布局。",
    ),
    CheckItem(
        code="oil_certificate_transfer",
        name="非法转让成品油经营批准证书",
        content="是否存在出租、出借、转让或者以承包、挂靠等形式变相转让成品油经营批准证书的情况。",
        legal_basis=(_LICENCE_LAW, _PERMIT_LAW),
        methods=("实地核查", "书面检查"),
        help_text="核对实际经营者与持证企业是否一致，查看承包、租赁合同和财务往来。",
    ),
    CheckItem(
        code="oil_unlicensed_construction",
        name="未经许可擅自新建、迁建和扩建加油站或油库",
        content="是否存在未经许可擅自新建、迁建、扩建加油站或者油库的情况，包括擅自增加储罐、加油机或改变站址。",
        legal_basis=(_LICENCE_LAW, _PERMIT_LAW),
        methods=("实地核查", "信息比对"),
        help_text="以许可时的平面布置图为准，现场核对站址、储罐和加油机。",
    ),
    CheckItem(
        code="oil_invoices_records",
        name="购销票据",
        content="成品油是否从具有合法经营资格的企业购进；进货票据、销售发票是否齐全并依法开具和取得；"
        "购销台账是否如实记录油品来源、数量和去向。",
        legal_basis=("《成品油流通管理办法》（商务部令2025年第4号）", _INVOICE_LAW),
        methods=("书面检查", "信息比对"),
        help_text="抽查近三个月进货发票与购销台账，核对供货企业资质和进销存数量。",
    ),
    CheckItem(
        code="oil_internal_rules",
        name="制度制定",
        content="是否制定并落实油品进货查验、质量管理、计量管理、安全管理、购销台账和统计报送等内部管理制度。",
        legal_basis=("《成品油流通管理办法》（商务部令2025年第4号）",),
        methods=("书面检查",),
        help_text="查阅制度文本及执行记录，询问从业人员对制度的掌握情况。",
    ),
    CheckItem(
        code="oil_fuel_upgrade",
        name="油品升级情况",
        content="销售的车用汽油、车用柴油是否符合现行国家标准（GB 17930、GB 19147 第六阶段要求）；"
        "是否向汽车和摩托车销售普通柴油或其他非机动车用燃料。",
        legal_basis=(_AIR_LAW, "《车用汽油》（GB 17930—2016）", "《车用柴油》（GB 19147—2016）"),
        methods=("书面检查", "实地核查"),
        help_text="查看油品出厂合格证或质量检验报告、加油机油品标识。需要抽样检验的，移交市场监管部门。",
    ),
    CheckItem(
        code="oil_business_type",
        name="经营类别",
        content="检查对象实际从事的成品油经营类别。",
        legal_basis=("《成品油流通管理办法》（商务部令2025年第4号）第三条",),
        methods=("实地核查",),
        kind="choice",
        choices=BUSINESS_TYPES,
        help_text="按实际经营活动选择：零售（加油站）、批发或仓储。",
        beyond_appendix=True,
    ),
    CheckItem(
        code="oil_problem_description",
        name="问题描述",
        content="发现问题时，写明问题事实、证据和整改要求。",
        kind="text",
        required=False,
        help_text="任一检查项为“不符合”时必填。",
        beyond_appendix=True,
    ),
)



MATTER = Matter(
    code="refined_oil",
    field="成品油市场监管",
    name="成品油经营资质；成品油经营违法违规情况",
    appendix_text=APPENDIX_TEXT,
    department_code="commerce",
    check_items=_ITEMS,
    legal_basis=(
        "《成品油流通管理办法》（商务部令2025年第4号）第三条、第四条、第十条",
        "《国务院对确需保留的行政审批项目设定行政许可的决定》（国务院令第412号）附件第183项",
        "《国务院关于取消和下放一批行政许可事项的决定》（国发〔2019〕25号）",
        _PERMIT_LAW,
        _AIR_LAW,
    ),
    min_ratio=Decimal("0.05"),
    frequency="每年不少于1次",
    methods=("实地核查", "书面检查", "信息比对"),
    criteria=TargetCriteria(
        target_types=("enterprise",),
        required_licences=LICENCES,
        scope_keywords=("成品油", "汽油", "柴油", "加油"),
    ),
    target_description="具有成品油经营批准证书的企业",
    county_defaults=("min_ratio", "frequency", "criteria"),
    version="2",
)

GUIDE_TEXT = """\
成品油市场联合抽查检查指引（武陟县商务局）
一、检查前：通过全国石油市场管理信息系统和国家企业信用信息公示系统查询检查对象的许可信息、登记信息和历次检查记录，准备许可档案中的平面布置图。
二、亮证：检查人员不少于两人，出示执法证件，说明检查依据和事项。
三、资质与经营条件：查验成品油经营批准证书原件及有效期，核对证载信息与实际经营是否一致；对照平面布置图核对储罐、加油机和站址，判断是否存在擅自新建、迁建、扩建。
四、经营行为：询问实际经营者，查阅承包、租赁合同，判断是否存在出租、出借、转让批准证书；抽查近三个月进货发票、销售发票和购销台账，核对油品来源和进销存数量。
五、制度与油品：查阅内部管理制度及执行记录；查看油品质量检验报告，确认销售的汽油、柴油符合第六阶段国家标准，未向机动车销售普通柴油。
六、反馈：当场向检查对象反馈检查情况，由其签字确认；拒绝签字的，在检查表中注明。
七、处置：发现违法违规问题的，依法责令整改或移交有关部门处理，并于检查结束后20个工作日内录入检查结果。
"""
