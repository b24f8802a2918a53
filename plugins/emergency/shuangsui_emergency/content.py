"""What the Wuzhi County Emergency Management Bureau contributes: its department and the
work-safety matter (row 3 of the appendix), with exactly the appendix's check items 1–5.

Item 6 of that row (企业登记事项检查) is not here: the Market Supervision Administration brings
it as a cooperating check item (plugin ``market``).
Article numbers of the Work Safety Law are those of the 2021 amendment (in force 1 September 2021).
"""
from __future__ import annotations

from decimal import Decimal

from gateway.plugins import CheckItem, Department, Matter, TargetCriteria

DEPARTMENT = Department(
    code="emergency",
    name="武陟县应急管理局",
    parent_code="jiaozuo_emergency",
    short_name="县应急管理局",
)

_LAW = "《中华人民共和国安全生产法》"

APPENDIX_TEXT = ("1、制定本单位安全生产规章制度情况；2、本单位对从业人员进行安全生产教育和培训情况；3、制定风险分级管控措施情况；"
                 "4、事故隐患排查治理情况；5、制定、实施生产安全事故应急救援预案情况。6、企业登记事项检查。")

_ITEMS = (
    CheckItem(
        code="ws_safety_rules",
        name="制定本单位安全生产规章制度情况",
        content="是否建立健全并落实全员安全生产责任制；是否制定本单位安全生产规章制度和操作规程，"
        "并随法规、标准和生产条件的变化及时修订。",
        legal_basis=(f"{_LAW}第四条，第二十一条第（一）项、第（二）项",),
        methods=("书面检查", "实地核查"),
        help_text="查阅责任制、规章制度和岗位操作规程文本，抽问岗位人员，核对制度与现场作业是否一致。",
    ),
    CheckItem(
        code="ws_safety_training",
        name="本单位对从业人员进行安全生产教育和培训情况",
        content="是否制定并实施安全生产教育和培训计划；从业人员（含被派遣劳动者、实习学生）是否经培训合格上岗；"
        "是否建立安全生产教育和培训档案；特种作业人员是否持证上岗。",
        legal_basis=(
            f"{_LAW}第二十一条第（三）项、第二十八条、第三十条",
            "《生产经营单位安全培训规定》（国家安全生产监督管理总局令第3号）",
        ),
        methods=("书面检查", "实地核查"),
        help_text="查阅培训计划、培训档案和考核记录，现场核验特种作业操作证。",
    ),
    CheckItem(
        code="ws_risk_control",
        name="制定风险分级管控措施情况",
        content="是否建立安全风险分级管控制度，辨识评估本单位安全风险，按照风险分级采取相应的管控措施，"
        "并在重点区域设置风险告知。",
        legal_basis=(f"{_LAW}第二十一条第（五）项、第四十一条第一款、第一百零一条",),
        methods=("书面检查", "实地核查"),
        help_text="查阅风险辨识清单和分级管控台账，现场核对重大风险点的管控措施和告知卡。",
    ),
    CheckItem(
        code="ws_hazard_investigation",
        name="事故隐患排查治理情况",
        content="是否建立健全并落实生产安全事故隐患排查治理制度，如实记录隐患排查治理情况并向从业人员通报；"
        "重大事故隐患是否按规定报告并治理销号。",
        legal_basis=(
            f"{_LAW}第四十一条第二款、第一百零一条",
            "《安全生产事故隐患排查治理暂行规定》（国家安全生产监督管理总局令第16号）",
        ),
        methods=("书面检查", "实地核查"),
        help_text="查阅隐患排查记录和整改台账，现场复核已销号隐患的整改情况。",
    ),
    CheckItem(
        code="ws_emergency_plan",
        name="制定、实施生产安全事故应急救援预案情况",
        content="是否制定生产安全事故应急救援预案并与县级预案相衔接，是否按规定评审（论证）、备案并向从业人员公布；"
        "是否定期组织演练并记录。",
        legal_basis=(
            f"{_LAW}第二十一条第（六）项、第八十一条",
            "《生产安全事故应急条例》（国务院令第708号）第五条、第八条",
            "《生产安全事故应急预案管理办法》（应急管理部令第2号修正）",
        ),
        methods=("书面检查", "实地核查"),
        help_text="查阅预案文本、评审和备案材料、演练记录，询问从业人员应急处置职责。",
    ),
)


MATTER = Matter(
    code="work_safety",
    field="对生产经营单位执行安全生产法律、法规和国家标准或者行业标准情况的抽查",
    name="生产经营单位执行安全生产法律、法规和国家标准或者行业标准情况",
    appendix_text=APPENDIX_TEXT,
    department_code="emergency",
    check_items=_ITEMS,
    legal_basis=(
        f"{_LAW}第四条、第二十一条、第二十八条、第四十一条、第六十五条、第八十一条",
        "《生产安全事故应急条例》（国务院令第708号）第五条",
        "《安全生产事故隐患排查治理暂行规定》（国家安全生产监督管理总局令第16号）",
    ),
    min_ratio=Decimal("0.05"),
    frequency="每年不少于1次",
    methods=("实地核查", "书面检查"),
    criteria=TargetCriteria(
        target_types=("enterprise", "individual_business", "farmer_cooperative"),
        required_licences=(),
        scope_keywords=("制造", "生产", "加工", "危险化学品", "烟花爆竹", "仓储", "冶炼", "矿"),
    ),
    target_description="武陟县对口生产经营单位",
    county_defaults=("min_ratio", "frequency", "criteria"),
    # Every item is checked on the unit's documents (rules, training records, risk-grading and
    # hidden-hazard registers, the emergency plan): a written check suffices unless a plan says why not.
    non_site_methods=("书面检查",),
    version="3",
)

GUIDE_TEXT = """\
安全生产联合抽查检查指引（武陟县应急管理局）
一、检查前：查询检查对象的行业类别、主要危险源、以往执法检查和事故记录，准备现场检查记录和责令限期整改指令书。
二、亮证：检查人员不少于两人，出示执法证件，说明检查依据和事项；进入生产现场按要求佩戴防护用品。
三、制度与培训：查阅全员安全生产责任制、规章制度、操作规程；查阅培训计划、培训档案，现场核验特种作业人员证件。
四、风险与隐患：查阅风险辨识清单和分级管控措施，核对现场风险告知；查阅隐患排查治理记录，复核整改情况。
五、应急预案：查阅应急救援预案、评审和备案材料、演练记录，抽问从业人员应急职责。
六、现场：发现重大事故隐患的，依法责令立即排除或停产停业整改，不得因联合抽查延后处置。
七、反馈：当场向检查对象反馈检查情况，由其签字确认；拒绝签字的，在检查表中注明。检查结束后20个工作日内录入检查结果。
"""
