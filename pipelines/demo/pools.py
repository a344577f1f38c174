"""Word pools the demo generator draws from: surnames, given names, places, diseases, employers.

Every pool is synthetic or a public word list (common surnames, county names, disease names);
no entry describes a real person.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "CHRONIC_DISEASES",
    "COUNTY_EMPLOYERS",
    "EMPLOYER_SUFFIXES",
    "ENTERPRISE_KINDS",
    "ENTERPRISE_WORDS",
    "ETHNICITIES",
    "FEMALE_FIRST",
    "FEMALE_SECOND",
    "HELPER_REMARKS",
    "HOMOPHONES",
    "HOUSING_REMARKS",
    "MALE_FIRST",
    "MALE_SECOND",
    "MOVED_TO",
    "SERIOUS_DISEASES",
    "SURNAMES",
    "TRICKY_SURNAMES",
    "UYGHUR_FEMALE",
    "UYGHUR_MALE",
    "all_surnames",
    "ethnic_mix",
    "surname_probabilities",
    "traditional_table",
]

# Top surnames with rough shares (per mille) from national statistics, plus surnames common among
# the Buyi, Miao and Shui of southern Guizhou.
_SURNAME_SHARES = (
    "王71 李70 张67 刘54 陈46 杨31 黄23 赵22 吴20 周19 徐15 孙15 马14 朱13 胡13 郭11 何11 林10 高10 罗10 "
    "郑9 梁8 谢7 宋7 唐7 许6 韩6 邓6 冯6 曹5 彭5 曾5 肖5 田5 董5 潘4 袁4 蔡4 蒋4 余4 于4 杜4 叶4 程4 "
    "魏4 苏4 吕3 丁3 任3 卢3 姚3 沈3 钟3 姜3 崔3 谭3 陆3 范3 汪3 廖3 石3 金3 韦3 贾3 夏2 付2 方2 邹2 "
    "熊2 白2 孟2 秦2 邱2 侯2 江2 尹2 薛2 闫2 段2 雷2 龙2 黎2 史2 陶2 贺2 毛2 郝2 顾2 龚2 邵2 万2 覃2 "
    "武2 钱2 戴2 严2 莫2 孔2 向2 常1 蒙2 岑1 班1 卯1"
)
SURNAMES: tuple[str, ...] = tuple(item[0] for item in _SURNAME_SHARES.split())
SURNAME_WEIGHTS: tuple[float, ...] = tuple(float(item[1:]) for item in _SURNAME_SHARES.split())
# Surnames read differently from their everyday reading; linkage must cope with them.
TRICKY_SURNAMES: tuple[str, ...] = ("曾", "单", "解", "仇", "区", "查", "朴")

MALE_FIRST = tuple("永志建国德文光明家正天世金开春小海兴学长安云华玉晓宏朝仕登昌应俊子思")
MALE_SECOND = tuple("伟强军勇杰涛斌超明刚平辉鹏华飞鑫波宁磊龙林峰健俊浩宇豪东江海兵文发贵福荣生成才虎洪忠")
FEMALE_FIRST = tuple("秀玉桂春小晓丽红美金雪丹思雨梓佳欣艳翠仙")
FEMALE_SECOND = tuple("芳娟敏静丽艳霞燕玲梅琴英兰萍红娜婷雪慧琳秀珍凤花莲菊月丹蓉颖倩佳欣怡瑶香桂")

UYGHUR_MALE = ("买买提", "艾力", "阿不都", "吐尔逊", "艾买提", "阿里木", "买合木提", "热合曼", "伊力哈木", "努尔买买提")
UYGHUR_FEMALE = ("阿依古丽", "古丽娜尔", "热依拉", "帕提古丽", "迪丽拜尔", "努尔尼沙", "阿依努尔", "米热古丽")

# Same or near-same reading, different character: the typing errors a clerk makes by pinyin input.
HOMOPHONES: dict[str, str] = dict(
    pair.split(":")
    for pair in [
        "明:铭",
        "华:桦",
        "伟:玮",
        "军:君",
        "峰:锋",
        "丽:莉",
        "芳:方",
        "静:婧",
        "红:宏",
        "英:瑛",
        "玲:琳",
        "梅:玫",
        "兰:岚",
        "琴:芹",
        "燕:艳",
        "霞:侠",
        "勇:永",
        "刚:钢",
        "杰:洁",
        "涛:滔",
        "斌:彬",
        "平:萍",
        "辉:晖",
        "鹏:朋",
        "飞:菲",
        "波:博",
        "磊:垒",
        "龙:隆",
        "林:琳",
        "建:健",
        "国:果",
        "德:得",
        "文:雯",
        "志:智",
        "永:勇",
        "春:椿",
        "秀:琇",
        "玉:钰",
        "金:锦",
        "兴:星",
        "学:雪",
        "云:芸",
        "娟:鹃",
        "敏:珉",
        "婷:亭",
        "雪:学",
        "慧:惠",
        "珍:贞",
        "凤:风",
        "丹:单",
        "倩:茜",
        "佳:家",
        "欣:新",
        "怡:宜",
        "家:佳",
        "光:广",
        "天:添",
        "世:仕",
        "开:凯",
        "宏:洪",
        "俊:骏",
        "浩:皓",
        "宇:雨",
        "豪:浩",
        "东:冬",
        "江:疆",
        "兵:斌",
        "发:法",
        "贵:桂",
        "福:富",
        "荣:蓉",
        "成:诚",
        "才:材",
        "虎:琥",
        "洪:宏",
        "忠:中",
        "超:朝",
        "健:建",
        "鑫:新",
        "宁:凝",
        "强:蔷",
        "晓:小",
        "小:晓",
        "思:斯",
        "雨:宇",
        "梓:子",
        "子:梓",
        "朝:超",
        "昌:长",
        "应:英",
        "仕:世",
        "长:昌",
        "美:梅",
        "翠:萃",
        "仙:先",
        "艳:燕",
        "桂:贵",
        "菊:桔",
        "月:悦",
        "莲:连",
        "蓉:荣",
        "颖:影",
        "琳:林",
        "瑶:遥",
        "香:湘",
        "花:华",
        "生:升",
        "海:凯",
    ]
)

# Ethnic mix per county (share of households): the prefecture is Buyi-Miao autonomous; 三都 is Shui.
ETHNICITIES = ("汉族", "布依族", "苗族", "水族", "瑶族", "毛南族", "侗族")
_DEFAULT_MIX = (0.45, 0.30, 0.17, 0.03, 0.02, 0.01, 0.02)
ETHNIC_MIX: dict[str, tuple[float, ...]] = {
    "522732": (0.25, 0.08, 0.10, 0.52, 0.02, 0.01, 0.02),
    "522722": (0.35, 0.35, 0.10, 0.08, 0.07, 0.03, 0.02),
    "522727": (0.45, 0.32, 0.12, 0.03, 0.02, 0.04, 0.02),
}


def ethnic_mix(county_code: str) -> tuple[float, ...]:
    """Household shares over ETHNICITIES for a county (6-digit code)."""
    return ETHNIC_MIX.get(county_code, _DEFAULT_MIX)


MOVED_TO = (
    "广东省东莞市长安镇",
    "广东省深圳市宝安区",
    "广东省佛山市南海区",
    "浙江省宁波市鄞州区",
    "浙江省温州市瓯海区",
    "福建省泉州市晋江市",
    "江苏省苏州市昆山市",
    "贵州省贵阳市观山湖区",
    "贵州省贵阳市花溪区",
    "贵州省遵义市汇川区",
    "云南省昆明市官渡区",
    "广西壮族自治区南宁市西乡塘区",
    "上海市松江区",
    "湖南省长沙市雨花区",
)

SERIOUS_DISEASES = (
    "恶性肿瘤",
    "尿毒症",
    "白血病",
    "重性精神病",
    "耐多药肺结核",
    "先天性心脏病",
    "脑卒中后遗症",
    "血友病",
    "终末期肾病",
    "重度再生障碍性贫血",
)
CHRONIC_DISEASES = (
    "高血压",
    "糖尿病",
    "慢性阻塞性肺疾病",
    "类风湿性关节炎",
    "冠心病",
    "慢性肾病",
    "慢性乙型肝炎",
    "癫痫",
    "帕金森病",
    "慢性心力衰竭",
)

EMPLOYER_SUFFIXES = (
    "人民政府",
    "中心小学",
    "中学",
    "卫生院",
    "财政所",
    "农业服务中心",
    "派出所",
)
COUNTY_EMPLOYERS = ("第一中学", "人民医院", "财政局", "教育局", "农业农村局", "公安局", "民族中学")

ENTERPRISE_WORDS = (
    "鑫源",
    "黔兴",
    "富民",
    "山水",
    "宏达",
    "金穗",
    "绿野",
    "兴农",
    "丰收",
    "顺达",
    "福源",
    "恒通",
    "安康",
    "汇鑫",
    "盛世",
    "华林",
    "瑞丰",
    "远航",
    "青山",
    "茗香",
    "云雾",
    "布依",
    "苗岭",
    "水乡",
    "高原",
    "剑江",
    "清水",
    "乌江",
    "毛尖",
    "刺梨",
)
# (credit-code prefix, name suffix): 91 company, 93 farmers' cooperative, 92 sole trader.
ENTERPRISE_KINDS = (
    ("91", "农业开发有限公司"),
    ("91", "商贸有限公司"),
    ("91", "建筑劳务有限公司"),
    ("91", "茶业有限公司"),
    ("91", "运输有限公司"),
    ("93", "种养殖农民专业合作社"),
    ("93", "茶叶种植农民专业合作社"),
    ("92", "农家乐"),
    ("92", "便民超市"),
    ("92", "养殖场"),
)

HOUSING_REMARKS = ("", "户主长期外出务工", "已纳入当年改造计划", "木结构老房", "土坯房", "已申请补助", "房屋部分倒塌")
HELPER_REMARKS = ("", "驻村第一书记", "村支书", "乡镇干部", "县直单位干部", "村委会主任")


def surname_probabilities() -> np.ndarray:
    """Probabilities over SURNAMES + TRICKY_SURNAMES not already in it (tricky ones kept rare but present)."""
    extra = [s for s in TRICKY_SURNAMES if s not in SURNAMES]
    weights = np.array([*SURNAME_WEIGHTS, *([0.6] * len(extra))], dtype=float)
    return weights / weights.sum()


def all_surnames() -> tuple[str, ...]:
    """SURNAMES followed by the tricky surnames not in it, aligned with surname_probabilities()."""
    return SURNAMES + tuple(s for s in TRICKY_SURNAMES if s not in SURNAMES)


@functools.cache
def traditional_table() -> dict[int, str]:
    """str.translate table simplified → traditional for the pool characters whose traditional form
    converts back (t2s) to the same character, so a traditional spelling is noise, not a new name."""
    import opencc

    s2t, t2s = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")
    chars = set("".join(all_surnames()) + "".join(MALE_FIRST + MALE_SECOND + FEMALE_FIRST + FEMALE_SECOND))
    table = {}
    for char in sorted(chars):
        trad = s2t.convert(char)
        if trad != char and len(trad) == 1 and t2s.convert(trad) == char:
            table[ord(char)] = trad
    return table
