"""Build the bundled sample register from the real 2020 plan (seed 004).

    python scripts/build_sample_register.py [SEED_FILE]

Tasks, categories and lead/partner units are parsed from the plan text. The indicators are the
quantitative targets the text states, listed below task by task; each one names the phrase of the
plan it comes from, and the script refuses to build if that phrase (with its number) is not in the
task's text, so the table can be reviewed against the source line by line. Tasks that state no
number get one 里程碑 indicator per lead unit.

Writes ``workbooks/任务台账.xlsx`` and the identical copy the package installs
(``addin/minsheng/sample/任务台账.xlsx``).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

from minsheng.register.workbook import write_register  # noqa: E402

DEFAULT_SEED = ROOT.parent / "shared" / "seeds" / "004_5577a6154126d908.txt"
OUTPUTS = [ROOT / "workbooks" / "任务台账.xlsx", ROOT / "addin" / "minsheng" / "sample" / "任务台账.xlsx"]
CREATED = dt.datetime(2020, 3, 1, 9, 0, 0)  # fixed, so the built file is reproducible

# task number → [(indicator name, unit, type, target, phrase of the plan it comes from)]
# For 比率 indicators the target is the percent number (95 means 95%).
INDICATORS: dict[int, list[tuple[str, str, str, str, str]]] = {
    1: [("技能脱贫培训", "人", "累计", "150", "技能脱贫培训150人"),
        ("企业新录用人员培训", "人", "累计", "14000", "企业新录用人员培训14000人"),
        ("新技工系统培养", "人", "累计", "1500", "新技工系统培养1500人"),
        ("退役军人培训", "人", "累计", "658", "退役军人培训658人"),
        ("培训新型职业农民", "人", "累计", "1000", "培训新型职业农民1000人")],
    2: [("新增就业见习岗位", "个", "累计", "1624", "新增就业见习岗位1624个")],
    3: [("创建省级农村电商示范镇", "个", "累计", "1", "创建1个省级农村电商示范镇"),
        ("创建省级农村电商示范村", "个", "累计", "15", "15个示范村")],
    6: [("经济强村占比", "%", "比率", "20", "经济强村占比达到20%")],
    7: [("新建改扩建公办幼儿园", "所", "累计", "12", "新建改扩建公办幼儿园12所"),
        ("资助幼儿", "人次", "累计", "988", "资助幼儿988人次"),
        ("培训幼儿教师", "人次", "累计", "461", "培训幼儿教师461人次")],
    9: [("高中阶段教育毛入学率", "%", "比率", "100", "高中阶段教育毛入学率保持100%")],
    11: [("职业院校输送毕业生", "万人", "累计", "0.92", "职业院校输送毕业生0.92万人"),
         ("开展各类职业培训", "万人次", "累计", "3", "开展各类职业培训3万人次")],
    12: [("产前筛查率", "%", "比率", "50", "产前筛查率达到50%"),
         ("孕妇咨询随访率", "%", "比率", "80", "孕妇咨询随访率达到80%")],
    14: [("贫困人口县域医疗机构就诊个人年度自付费用", "万元", "上限", "0.3", "分别不超过0.3万元"),
         ("贫困人口市级医疗机构就诊个人年度自付费用", "万元", "上限", "0.5", "0.5万元"),
         ("贫困人口省级医疗机构就诊个人年度自付费用", "万元", "上限", "1", "1万元"),
         ("贫困慢性病患者门诊合规自付医药费再报销比例", "%", "比率", "80", "再按 80%给予报销")],
    16: [("免费婚前健康检查", "人", "累计", "28000", "免费婚前健康检查约28000人"),
         ("婚检率", "%", "比率", "85", "婚检率稳定在85%"),
         ("微型企业接触职业病危害劳动者培训", "人", "累计", "200", "完成微型企业200名接触职业病危害劳动者的培训"),
         ("职业病监测信息上报", "条", "累计", "11000", "不低于11000条"),
         ("职业病监测完成率", "%", "比率", "100", "监测完成率100%")],
    17: [("城乡居民基本医疗保险参保率", "%", "比率", "95", "参保率稳定在 95%"),
         ("政策范围内住院费用报销比例", "%", "比率", "75", "政策范围内住院费用报销比例稳定在75%")],
    18: [("大病保险支付比例", "%", "比率", "60", "大病保险支付比例达到60%")],
    19: [("城乡居民基本养老保险当年缴费人数", "万人", "累计", "47.48", "当年缴费人数达47.48万人"),
         ("符合条件人员养老金发放率", "%", "比率", "100", "养老金发放率达100%")],
    21: [("建设省级示范智慧养老机构", "家", "累计", "1", "建设1-2家省级示范智慧养老机构")],
    23: [("贫困精神残疾人患者药费补助", "人", "累计", "2672", "为2672名贫困精神残疾人患者提供药费补助"),
         ("残疾儿童和孤独症儿童康复训练救助", "人", "累计", "351", "为351名符合条件的"),
         ("残疾儿童适配假肢矫形器", "人", "累计", "26", "为26名残疾儿童适配假肢矫形器"),
         ("残疾儿童适配辅助器具", "人", "累计", "23", "为23名残疾儿童适配辅助器具")],
    24: [("棚户区改造基本建成", "套", "累计", "4957", "棚户区改造基本建成4957套")],
    25: [("整治改造老旧小区", "个", "累计", "36", "整治改造36个小区"),
         ("农村危房改造", "户", "累计", "291", "完成291户农村危房改造任务")],
    28: [("免费开放公共图书馆", "个", "累计", "7", "7个公共图书馆"),
         ("免费开放文化馆", "个", "累计", "6", "6个文化馆"),
         ("免费开放美术馆", "个", "累计", "1", "1个美术馆"),
         ("免费开放文化站", "个", "累计", "47", "47个文化站"),
         ("免费开放博物馆", "个", "累计", "4", "4个博物馆")],
    30: [("乡镇公共体育设施建设", "个", "累计", "12", "完成12个乡镇公共体育设施建设"),
         ("新建体育健身路径", "个", "累计", "10", "新建体育健身路径10个"),
         ("新建智慧健身路径", "套", "累计", "2", "2套智慧健身路径"),
         ("新建社区体育俱乐部", "个", "累计", "6", "社区体育俱乐部6个"),
         ("经常参加体育锻炼人数", "万人", "累计", "88", "经常参加体育锻炼人数达88万人"),
         ("扶贫村新建健身路径", "套", "累计", "11", "新建健身路径11套")],
    31: [("新培育“三品一标”农产品并实现追溯", "个", "累计", "30", "新培育30个以上"),
         ("规模生产经营主体农产品追溯", "个", "累计", "30", "实现30个以上规模生产经营主体的农产品追溯")],
    32: [("办理法律援助案件", "件", "累计", "2914", "办理法律援助案件2914件")],
    35: [("中小学幼儿园校园安全“前哨”系统推广和配套建设", "所", "累计", "50", "完成对50所中小学幼儿园")],
    38: [("二类县卫生厕所普及率", "%", "比率", "85", "卫生厕所普及率达到85%")],
    39: [("基本完成中小河流治理项目主体工程", "个", "累计", "3", "基本完成2019年开工建设的3个中小河流治理项目"),
         ("新开工中小河流治理项目", "个", "累计", "2", "新开工2个中小河流治理项目"),
         ("重点易涝区排涝能力建设项目年度投资计划完成比例", "%", "比率", "80", "年底完成年度投资计划的80%"),
         ("新开工重点易涝区排涝泵站项目", "个", "累计", "4", "新开工4个重点易涝区排涝泵站项目")],
    41: [("农村饮水安全巩固提升工程", "处", "累计", "14", "实施14处农村饮水安全巩固提升工程")],
    42: [("美丽乡村省级中心村通过验收", "个", "累计", "18", "18个美丽乡村省级中心村"),
         ("美丽乡村市级中心村通过验收", "个", "累计", "15", "15个美丽乡村市级中心村验收"),
         ("建制村环境整治", "个", "累计", "50", "完成50个建制村环境整治"),
         ("2020年度省级、市级中心村工程进度", "%", "比率", "70", "工程进度的70%")],
    43: [("农村公路扩面延伸工程", "公里", "累计", "344.166", "实施农村公路扩面延伸工程344.166公里"),
         ("县乡公路大中修", "公里", "累计", "129", "实施129公里"),
         ("具备条件的乡镇和建制村通客车率", "%", "比率", "100", "建制村100%通客车")],
    47: [("人工造林", "万亩", "累计", "1.01", "完成人工造林 1.01万亩"),
         ("封山育林", "万亩", "累计", "0.4", "封山育林0.4万亩")],
    48: [("支持贫困村建设特色产业扶贫园区", "个", "累计", "28", "支持28个贫困村建设特色产业扶贫园区"),
         ("新型农业经营主体带动贫困户", "户", "累计", "2812", "带动贫困户2812户"),
         ("支持贫困户开展自种自养", "户", "累计", "2560", "引导和支持2560户具备条件的贫困户")],
}

# Milestone indicator names for tasks led by several units (one indicator per lead unit).
MILESTONE_NAMES = {
    (4, "市人社局"): "城镇常住居民人均可支配收入增长与经济增长同步",
    (4, "市农业农村局"): "农村常住居民人均可支配收入增长与经济增长同步",
    (13, "市卫健委"): "“智医助理”基层医疗卫生机构全覆盖",
    (13, "市数据资源管理局"): "电子健康卡与“安康码”融合及综合服务平台建设",
    (22, "市民政局"): "低保、特困供养、儿童关爱等困难人员救助",
    (22, "市医保局"): "分类资助困难群众参加基本医疗保险",
    (22, "市总工会"): "困难职工生活、助学、医疗救助",
}

CATEGORY_RE = re.compile(r"^([一二三四五六七八九十]+、.+)$")
TASK_RE = re.compile(r"^(\d+)\.(.+?)。(.*)$")
UNITS_RE = re.compile(r"\((?:牵头)?责任单位[:：]\s*(?P<lead>[^,，)]+?)\s*"
                      r"(?:[,，]\s*协同责任单位[:：]\s*(?P<partner>[^)]+?))?\s*\)\s*$")


def parse_seed(text: str) -> list[dict]:
    """Categories and numbered tasks of the plan, with their lead and partner units."""
    tasks, category = [], ""
    for line in (raw.strip() for raw in text.splitlines()):
        if CATEGORY_RE.match(line):
            category = line
            continue
        match = TASK_RE.match(line)
        if not match or not category:
            continue
        units = UNITS_RE.search(line)
        if not units:
            raise SystemExit(f"任务 {match.group(1)} 没有牵头责任单位：{line[:40]}…")
        body = line[: units.start()].strip()
        target_text = body[len(match.group(1)) + 1 + len(match.group(2)) + 1:].strip()
        tasks.append({
            "number": int(match.group(1)),
            "category": category,
            "name": match.group(2).strip(),
            "target_text": target_text,
            "leads": [u.strip() for u in units.group("lead").split("、") if u.strip()],
            "partners": (units.group("partner") or "").strip(),
        })
    return tasks


def register_rows(tasks: list[dict]) -> list[dict]:
    rows = []
    for task in tasks:
        n = task["number"]
        common = {"任务编号": str(n), "类别": task["category"], "项目名称": task["name"],
                  "年度目标任务": task["target_text"], "协同单位": task["partners"]}
        specs = INDICATORS.get(n)
        if specs:
            if len(task["leads"]) != 1:
                raise SystemExit(f"任务 {n} 有多个牵头单位，数量指标须分别指定牵头单位")
            for i, (name, unit, kind, target, phrase) in enumerate(specs, start=1):
                compact = task["target_text"].replace(" ", "")
                if phrase.replace(" ", "") not in compact or target not in phrase.replace(" ", ""):
                    raise SystemExit(f"任务 {n} 的指标“{name}”：原文中找不到“{phrase}”或其中没有 {target}")
                rows.append({**common, "牵头单位": task["leads"][0], "指标编号": f"{n}-{i}",
                             "指标名称": name, "计量单位": unit, "指标类型": kind, "年度目标值": Decimal(target)})
        else:
            for i, lead in enumerate(task["leads"], start=1):
                name = MILESTONE_NAMES.get((n, lead), task["name"])
                rows.append({**common, "牵头单位": lead, "指标编号": f"{n}-{i}", "指标名称": name,
                             "计量单位": "阶段", "指标类型": "里程碑", "年度目标值": ""})
    return rows


def main(argv: list[str]) -> int:
    seed = Path(argv[0]) if argv else DEFAULT_SEED
    tasks = parse_seed(seed.read_text(encoding="utf-8"))
    if [t["number"] for t in tasks] != list(range(1, 51)):
        raise SystemExit(f"应解析出任务 1–50，实际为 {[t['number'] for t in tasks]}")
    rows = register_rows(tasks)
    for out in OUTPUTS:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_register(out, rows, created=CREATED)
        print(f"已写入 {out.relative_to(ROOT)}：{len(tasks)} 项任务，{len(rows)} 个指标")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
