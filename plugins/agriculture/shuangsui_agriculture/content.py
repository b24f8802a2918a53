"""What the Wuzhi County Agriculture and Rural Affairs Bureau contributes: its department and
the crop-seed quality matter (row 2 of the appendix, 种子生产企业专项检查 / 农作物种子质量检查)."""
from __future__ import annotations

from decimal import Decimal

from gateway.plugins import CheckItem, Department, Matter, TargetCriteria

DEPARTMENT = Department(
    code="agriculture",
    name="武陟县农业农村局",
    parent_code="jiaozuo_agriculture",
    short_name="县农业农村局",
)

# Licence name exactly as recorded on targets (matched verbatim).
SEED_LICENCE = "农作物种子生产经营许可证"

_SEED_LAW = "《中华人民共和国种子法》"

_ITEMS = (
    CheckItem(
        code="seed_licence",
        beyond_appendix=True,
        name="种子生产经营许可",
        content="是否取得农作物种子生产经营许可证并在有效期内；生产经营的作物种类、品种、生产地点和有效区域"
        "是否与许可证载明事项一致；是否存在伪造、变造、买卖、租借许可证的情况。",
        legal_basis=(
            f"{_SEED_LAW}第三十一条、第三十二条、第三十三条",
            "《农作物种子生产经营许可管理办法》（农业部令2016年第5号）",
        ),
        methods=("书面检查", "信息比对"),
        help_text="查验许可证原件，与中国种业大数据平台的许可信息比对。",
    ),
    CheckItem(
        code="seed_variety",
        beyond_appendix=True,
        name="品种审定和登记",
        content="生产经营的主要农作物品种是否通过审定，应当登记的非主要农作物品种是否已经登记；"
        "是否以未审定、未登记品种的名义推广、销售。",
        legal_basis=(f"{_SEED_LAW}第二十二条、第二十三条",),
        methods=("书面检查", "信息比对"),
        help_text="逐个品种核对审定（登记）编号和适宜种植区域。",
    ),
    CheckItem(
        code="seed_labelling",
        beyond_appendix=True,
        name="标签和使用说明",
        content="销售的种子是否经过加工、分级、包装，是否附有标签和使用说明；标签是否标注种子类别、品种名称、"
        "审定（登记）编号、适宜种植区域及季节、生产经营者及注册地、质量指标、检疫证明编号、"
        "许可证编号和信息代码；是否存在涂改标签的情况。",
        legal_basis=(
            f"{_SEED_LAW}第四十条、第四十一条",
            "《农作物种子标签和使用说明管理办法》（农业部令2016年第6号）",
        ),
        methods=("实地核查",),
        help_text="在库房和销售场所随机抽取包装，逐项核对标签内容。",
    ),
    CheckItem(
        code="seed_archives",
        beyond_appendix=True,
        name="生产经营档案",
        content="是否建立和保存包括种子来源、产地、数量、质量、销售去向、销售日期和有关责任人员等内容的"
        "生产经营档案，保证可追溯。",
        legal_basis=(f"{_SEED_LAW}第三十六条",),
        methods=("书面检查",),
        help_text="抽取本年度生产或购进的批次，从档案追到销售去向。",
    ),
    CheckItem(
        code="seed_quality_testing",
        beyond_appendix=True,
        name="种子质量检验",
        content="是否执行种子生产技术规程和种子检验、检疫规程；每批种子是否有发芽率、净度、纯度、水分的"
        "检验记录，质量是否达到标签标注值和国家标准。",
        legal_basis=(
            f"{_SEED_LAW}第三十四条、第四十七条",
            "《农作物种子检验规程》（GB/T 3543）",
            "《粮食作物种子 第1部分：禾谷类》（GB 4404.1）",
        ),
        methods=("书面检查", "抽样检验"),
        help_text="查阅检验报告和原始记录；对质量存疑的批次抽样送法定种子质量检验机构检验。"
        "判定为“不符合”的，须记录抽取样品数。",
    ),
    CheckItem(
        code="seed_sample_count",
        beyond_appendix=True,
        name="抽取样品数（份）",
        content="本次检查抽取的种子样品份数，未抽样填0。",
        legal_basis=("《农作物种子质量监督抽查管理办法》（农业部令第50号）",),
        methods=("抽样检验",),
        kind="integer",
        help_text="抽样应填写抽样单，由检查对象签字确认。",
    ),
    CheckItem(
        code="seed_stock_kg",
        beyond_appendix=True,
        name="检查时库存种子数量（千克）",
        content="检查时库房内待售种子的数量，按千克填写。",
        methods=("实地核查",),
        kind="decimal",
        help_text="与进销存台账核对。",
    ),
    CheckItem(
        code="seed_fake_inferior",
        beyond_appendix=True,
        name="假、劣种子",
        content="是否存在生产经营假种子、劣种子的情况（以非种子冒充种子、以此品种冒充他品种、品种种类产地与标签"
        "不符、质量低于国家标准或标签标注指标等）。",
        legal_basis=(f"{_SEED_LAW}第四十九条",),
        methods=("实地核查", "抽样检验"),
        help_text="“符合”表示未发现假、劣种子。",
    ),
    CheckItem(
        code="seed_problem_description",
        beyond_appendix=True,
        name="问题描述",
        content="发现问题时，写明问题事实、涉及品种和批次、证据和整改要求。",
        kind="text",
        required=False,
        help_text="任一检查项为“不符合”时必填。",
    ),
)


MATTER = Matter(
    code="crop_seed",
    field="种子生产企业专项检查",
    name="农作物种子质量检查",
    appendix_text="农作物种子质量检查",
    department_code="agriculture",
    check_items=_ITEMS,
    legal_basis=(
        f"{_SEED_LAW}第三十一条、第三十三条、第三十六条、第四十一条、第四十七条、第四十九条",
        "《农作物种子生产经营许可管理办法》（农业部令2016年第5号）",
        "《农作物种子质量监督抽查管理办法》（农业部令第50号）",
    ),
    min_ratio=Decimal("0.10"),
    frequency="每年不少于1次",
    methods=("实地核查", "书面检查", "抽样检验"),
    criteria=TargetCriteria(
        target_types=("enterprise", "farmer_cooperative"),
        required_licences=(SEED_LICENCE,),
        scope_keywords=("种子",),
    ),
    target_description="武陟县对口监管企业",
    county_defaults=("min_ratio", "frequency", "criteria"),
    version="2",
)

GUIDE_TEXT = """\
农作物种子质量联合抽查检查指引（武陟县农业农村局）
一、检查前：在中国种业大数据平台查询检查对象的许可证、品种审定（登记）和备案信息，准备抽样单和封样袋。
二、亮证：检查人员不少于两人，出示执法证件，说明检查依据和事项。
三、许可与品种：查验农作物种子生产经营许可证，核对作物种类、品种、生产地点和有效区域；逐个品种核对审定（登记）编号。
四、库房与标签：清点库存，随机抽取包装核对标签和使用说明，注意涂改标签和无标签种子。
五、档案与检验：从生产经营档案抽取批次追溯来源和去向；查阅发芽率、净度、纯度、水分检验记录。质量存疑的批次按规定抽样、封样，由检查对象签字确认，送法定种子质量检验机构检验。
六、反馈：当场向检查对象反馈检查情况，由其签字确认；拒绝签字的，在检查表中注明。
七、处置：发现假、劣种子或其他违法行为的，依法处理，并于检查结束后20个工作日内录入检查结果；样品检验结果出具后补充录入。
"""
