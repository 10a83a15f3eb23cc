from decimal import Decimal
from pathlib import Path

import pytest
from minsheng.config import ConfigError, default_config_text, find_config, load_config
from minsheng.model import Period

ROOT = Path(__file__).resolve().parents[1]


def write(folder: Path, text: str, encoding: str = "utf-8") -> Path:
    path = folder / "config.ini"
    path.write_bytes(text.encode(encoding))
    return path


def test_default_config_loads_with_documented_values(tmp_path):
    config = load_config(write(tmp_path, default_config_text()))
    assert config.period == Period(2020, 6)
    assert config.register == tmp_path / "任务台账.xlsx"
    assert config.outbox() == tmp_path / "下发" / "2020-06"
    assert config.inbox(Period(2020, 9)) == tmp_path / "收集" / "2020-09"
    assert config.output() == tmp_path / "汇总" / "2020-06"
    assert config.ledger == tmp_path / "history.sqlite"
    assert config.thresholds.lag_points == Decimal(10)
    assert config.thresholds.severe_lag_points == Decimal(30)
    assert config.thresholds.outlier_percent == Decimal(300)
    assert [name for name, _ in config.stages][0] == "未启动"
    assert config.stages[-1][1] == Decimal(100)
    assert config.circular_template is None and config.issue_date is None


def test_every_key_in_the_bundled_file_is_documented_by_a_comment():
    text = default_config_text()
    keys, stages = text.split("[milestones]")
    lines = keys.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith(";"):
            assert lines[i - 1].startswith(";"), f"键 {line} 上方没有说明"
    # The stage list is one documented block: a comment, then one stage a line.
    assert stages.strip().startswith(";")


def test_repository_config_is_the_bundled_one_pointing_at_the_sample_folder():
    repo = (ROOT / "config.ini").read_text(encoding="utf-8")
    assert repo == default_config_text(issuer="马鞍山市民生工作领导小组办公室").replace("root =\n", "root = workbooks\n")
    config = load_config(ROOT / "config.ini")
    assert config.register == ROOT / "workbooks" / "任务台账.xlsx"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_notepad_encodings_are_read(tmp_path, encoding):
    text = default_config_text().replace("（请填写发文单位）", "某某县民生办")
    config = load_config(write(tmp_path, text, encoding))
    assert config.issuer == "某某县民生办"


def test_period_argument_overrides_the_file(tmp_path):
    config = load_config(write(tmp_path, default_config_text()), period="2020-09")
    assert config.period == Period(2020, 9)
    assert config.outbox() == tmp_path / "下发" / "2020-09"


@pytest.mark.parametrize("old, new, words", [
    ("lag_points = 10", "", ["缺少", "[status]", "lag_points"]),
    ("lag_points = 10", "lag_points = 十", ["lag_points", "十", "不是非负数字"]),
    ("current = 2020-06", "current = 2020-13", ["[period] current", "2020-13"]),
    ("severe_lag_points = 30", "severe_lag_points = 5", ["severe_lag_points", "不能小于"]),
    ("基本完成 = 80", "基本完成 = 10", ["[milestones]", "从小到大"]),
    ("全面完成 = 100", "全面完成 = 120", ["全面完成", "0 到 100"]),
    ("date =", "date = 七月十日", ["[office] date", "七月十日"]),
    ("inbox = 收集/{period}", "inbox =", ["inbox", "不能为空"]),
    ("[status]", "[status", ["格式有误"]),
])
def test_a_wrong_or_missing_key_is_one_chinese_line_naming_key_and_file(tmp_path, old, new, words):
    text = default_config_text()
    assert old in text
    path = write(tmp_path, text.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message


def test_bad_period_argument_names_the_option(tmp_path):
    with pytest.raises(ConfigError, match="--period"):
        load_config(write(tmp_path, default_config_text()), period="六月")


def test_missing_config_file_tells_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="minsheng init"):
        find_config(tmp_path)
    with pytest.raises(ConfigError, match="不存在"):
        load_config(tmp_path / "nothere.ini")


def test_undecodable_file_asks_for_utf8(tmp_path):
    path = tmp_path / "config.ini"
    path.write_bytes(b"\xff\xfe\x00\xd8\x00\xd8")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)
