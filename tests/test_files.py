import os

import pytest
from minsheng import files
from minsheng.errors import OutputError
from minsheng.files import MAX_NAME, OutputLockedError, atomic_path, safe_name, unique_names


@pytest.mark.parametrize("name, safe", [
    ("市教育局", "市教育局"),
    ("市教育局/体育局", "市教育局_体育局"),
    ('a\\b:c*d?e"f<g>h|i', "a_b_c_d_e_f_g_h_i"),
    ("  市残联. ", "市残联"),
    ("市\n民政局\t", "市 民政局"),
    ("CON", "_CON"),
    ("lpt1.txt", "_lpt1.txt"),
    ("...", "未命名单位"),
    ("", "未命名单位"),
])
def test_safe_name(name, safe):
    assert safe_name(name) == safe


def test_long_names_are_cut():
    assert len(safe_name("局" * 200)) == MAX_NAME


def test_names_colliding_after_cleaning_or_by_case_get_numbers():
    names = unique_names(["市a/b局", "市a_b局", "Unit", "UNIT"])
    assert names == {"市a/b局": "市a_b局", "市a_b局": "市a_b局_2", "Unit": "Unit", "UNIT": "UNIT_2"}


def test_atomic_path_replaces_target_only_on_success(tmp_path):
    target = tmp_path / "汇总" / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("新", encoding="utf-8")
        assert not target.exists()
    assert target.read_text(encoding="utf-8") == "新"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("半截", encoding="utf-8")
            raise RuntimeError("写到一半出错")
    assert target.read_text(encoding="utf-8") == "新"
    assert os.listdir(target.parent) == ["out.txt"]


def test_locked_target_is_reported_in_chinese(tmp_path, monkeypatch):
    # On Windows a workbook open in Excel cannot be replaced: os.replace raises PermissionError.
    target = tmp_path / "汇总.xlsx"
    target.write_text("旧", encoding="utf-8")

    def locked(src, dst):
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(files, "LOCKING", True)  # as on Windows
    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(OutputLockedError, match="正被其他程序"):
        with atomic_path(target) as tmp:
            tmp.write_text("新", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "旧"
    assert sorted(os.listdir(tmp_path)) == ["汇总.xlsx"]


def test_a_spool_gives_back_every_object_in_order_and_by_slot():
    from minsheng.spool import Spool

    with Spool() as spool:
        shared = ("同一个对象", 1)
        slots = [spool.add([i, shared, {"k": shared}]) for i in range(3000)]  # memoised parts
        assert [item[0] for item in spool] == list(range(3000))
        assert all(item[1] == shared and item[2]["k"] == shared for item in spool)
        assert spool.get(slots[1234]) == [1234, shared, {"k": shared}]


def test_without_locks_a_refused_replace_is_a_permission_problem(tmp_path, monkeypatch):
    target = tmp_path / "汇总.xlsx"
    target.write_text("旧", encoding="utf-8")

    def refused(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "LOCKING", False)  # Linux, macOS: nothing holds files open
    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OutputError, match="没有访问权限") as info:
        with atomic_path(target) as tmp:
            tmp.write_text("新", encoding="utf-8")
    assert "Excel" not in str(info.value) and target.read_text(encoding="utf-8") == "旧"
