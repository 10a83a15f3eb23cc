"""The Excel add-in, checked without Excel: its file, ribbon, VBA, and Python entry points run
against a stand-in for the calling workbook and Excel application."""

import hashlib
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import SHARED
from lxml import etree
from minsheng import addin, xlam
from minsheng.circular import chart
from minsheng.config import load_config

SCHEMA = SHARED / "schemas" / "customui14.xsd"
NS = {"c": "http://schemas.microsoft.com/office/2009/07/customui"}
BUTTONS = ["生成填报模板", "校验填报表", "汇总", "打开汇总表", "生成通报", "打开通报", "设置"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return xlam.build_xlam(tmp_path_factory.mktemp("xlam") / "minsheng.xlam")


def ribbon():
    return etree.fromstring(xlam.ribbon_xml())


def test_building_twice_gives_identical_bytes(built, tmp_path):
    again = xlam.build_xlam(tmp_path / "again.xlam")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(built.read_bytes()).digest()


def test_the_xlam_has_the_parts_excel_needs(built):
    with zipfile.ZipFile(built) as package:
        names = package.namelist()
        types = package.read("[Content_Types].xml").decode()
        rels = package.read("_rels/.rels").decode()
        assert package.read(xlam.RIBBON_PART) == xlam.ribbon_xml()
        workbook = package.read("xl/workbook.xml").decode()
        core = package.read("docProps/core.xml").decode()
    assert "_minsheng.conf" in workbook
    # Nothing of the skeleton's author (File > Info shows these).
    assert "absPath" not in workbook and "felix" not in (workbook + core).lower()
    assert "<dc:creator>minsheng</dc:creator>" in core
    ET.fromstring(workbook.encode()), ET.fromstring(core.encode())
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/vbaProject.bin",
            "xl/_rels/workbook.xml.rels", "customUI/customUI14.xml"} <= set(names)
    assert "customUI/customUI.xml" not in names
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types
    assert re.search(r'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
                     r'Target="customUI/customUI14.xml"', rels)
    assert rels.count("ui/extensibility") == 1


@pytest.mark.skipif(not SCHEMA.is_file(), reason="customui14.xsd is not present beside the repository")
def test_ribbon_xml_validates_against_customui14_xsd():
    import xmlschema

    xmlschema.XMLSchema(str(SCHEMA)).validate(xlam.ribbon_xml())


def test_ribbon_has_the_tab_groups_and_chinese_labels():
    root = ribbon()
    (tab,) = root.findall(".//c:tab", NS)
    assert tab.get("label") == "民生工程"
    assert [g.get("label") for g in tab.findall("c:group", NS)] == ["填报", "汇总", "通报", "设置"]
    buttons = tab.findall(".//c:button", NS)
    assert [b.get("label") for b in buttons] == BUTTONS
    assert all(b.get("imageMso") for b in buttons)


def test_every_tag_has_a_python_handler_and_every_handler_a_button():
    tags = [b.get("tag") for b in ribbon().findall(".//c:button", NS)]
    assert len(set(tags)) == len(tags)
    assert set(tags) == set(addin.HANDLERS)


def test_every_on_action_is_a_vba_sub_taking_an_iribboncontrol(built):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(built))
    code = "\n".join(source for _, _, _, source in parser.extract_macros())
    parser.close()
    for action in {b.get("onAction") for b in ribbon().findall(".//c:button", NS)}:
        assert re.search(rf"Sub {re.escape(action)}\(\s*\w+ As IRibbonControl\s*\)", code), action
    assert "RunPython \"import minsheng.addin as a; a.dispatch('\" & control.Tag & \"')\"" in code
    assert 'Public Const PROJECT_NAME As String = "minsheng"' in code
    assert "Function RunPython" in code  # xlwings' own module is still there
    assert "RibbonMyAddin" not in code


class StandIn:
    """Excel as the add-in sees it: the calling workbook, the status bar, message boxes, opening."""

    def __init__(self, workbook: Path):
        self.workbook = workbook
        self.statuses, self.messages, self.opened = [], [], []

    def caller_path(self) -> Path:
        return self.workbook

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def message(self, text: str, error: bool = False) -> None:
        self.messages.append((text, error))

    def open(self, path: Path) -> None:
        self.opened.append(path)


@pytest.fixture
def excel(tmp_path, monkeypatch):
    from minsheng.pipeline import run_demo

    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    folder = run_demo(tmp_path / "演示").folder
    return StandIn(folder / "任务台账.xlsx")


def test_every_button_runs_end_to_end(excel):
    folder = excel.workbook.parent
    config = load_config(folder / "config.ini")
    for tag in addin.HANDLERS:
        addin.dispatch(tag, excel)
    errors = [text for text, error in excel.messages if error and "有错误" not in text]
    assert errors == []
    assert excel.opened == [config.output() / "汇总_2020-06.xlsx", config.output() / "汇总_2020-06.xlsx",
                            config.output() / "通报_2020-06.docx", config.output() / "通报_2020-06.docx",
                            folder / "config.ini"]
    assert any("已为 21 个牵头单位生成" in text for text, _ in excel.messages)
    validated = next(text for text, _ in excel.messages if text.startswith("共校验"))
    assert "共校验 21 个文件" in validated and "十二" in validated
    assert any(s.startswith("汇总完成：读取 21 个文件") for s in excel.statuses)
    assert any(s.startswith("汇总：") for s in excel.statuses)  # progress while reading


def test_a_workbook_outside_a_working_folder_is_told_what_to_do(tmp_path):
    excel = StandIn(tmp_path / "别处.xlsx")
    addin.dispatch("consolidate", excel)
    ((text, error),) = excel.messages
    assert error and "config.ini" in text and "minsheng init" in text


def test_known_errors_become_messages(excel):
    config = load_config(excel.workbook.parent / "config.ini")
    for path in config.inbox().glob("*.xlsx"):
        path.unlink()
    addin.dispatch("validate", excel)
    assert "还没有填报表" in excel.messages[-1][0]
    (config.output() / "通报_2020-06.docx").unlink(missing_ok=True)
    addin.dispatch("open_circular", excel)
    assert "请先点“生成通报”" in excel.messages[-1][0]
    addin.dispatch("no_such_button", excel)
    assert "没有对应的功能" in excel.messages[-1][0]


def test_register_problems_are_listed_with_their_cells(excel):
    import openpyxl

    book = openpyxl.load_workbook(excel.workbook)
    book["任务台账"]["K2"] = "很多"
    book["任务台账"]["J3"] = "其他"
    book.save(excel.workbook)
    addin.dispatch("templates", excel)
    text, error = excel.messages[-1]
    assert error and "任务台账!K2" in text and "任务台账!J3" in text


def test_an_unexpected_error_is_a_message_and_a_log_not_a_traceback(excel, monkeypatch):
    def broken(config, excel):
        raise ZeroDivisionError("bug")

    monkeypatch.setitem(addin.HANDLERS, "consolidate", broken)
    addin.dispatch("consolidate", excel)
    text, error = excel.messages[-1]
    assert error and "意外错误" in text and "Traceback" not in text
    log = excel.workbook.parent / addin.LOG_NAME
    assert "ZeroDivisionError" in log.read_text(encoding="utf-8")
    assert excel.statuses[-1] == ""  # the status bar is handed back


def test_install_and_uninstall_for_a_windows_user_called_zhang_san(tmp_path, monkeypatch):
    profile = tmp_path / "Users" / "张三"
    monkeypatch.setenv("USERPROFILE", str(profile))
    monkeypatch.setenv("APPDATA", str(profile / "AppData" / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(profile / "AppData" / "Local"))
    python = profile / "AppData" / "Local" / "Programs" / "Python" / "Python311" / "pythonw.exe"
    monkeypatch.setattr(xlam, "interpreter", lambda: python)
    monkeypatch.setattr(xlam, "_ansi_code_page", lambda: "cp936")
    installed, settings = xlam.install_addin()
    assert installed == profile / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "minsheng.xlam"
    assert zipfile.is_zipfile(installed)
    assert settings == profile / ".minsheng" / "minsheng.conf"
    # xlwings' VBA reads the file in the ANSI code page and expands %VARIABLES%: it stays ASCII.
    text = settings.read_bytes().decode("ascii")
    assert text.splitlines()[0] == '"INTERPRETER_WIN","%LOCALAPPDATA%/Programs/Python/Python311/pythonw.exe"'
    assert sorted(xlam.uninstall_addin()) == sorted([installed, settings, settings.parent])
    assert not settings.parent.exists() and xlam.uninstall_addin() == []


def test_settings_name_the_users_folders_by_variable_and_use_the_ansi_code_page():
    environ = {"USERPROFILE": "C:\\Users\\张三", "LOCALAPPDATA": "C:\\Users\\张三\\AppData\\Local",
               "ProgramFiles": "C:\\Program Files"}
    assert xlam.portable_path("c:\\users\\张三\\AppData\\Local\\Programs\\Python\\python.exe", environ) == \
        "%LOCALAPPDATA%\\Programs\\Python\\python.exe"
    assert xlam.portable_path("C:\\Users\\张三二\\python.exe", environ) == "C:\\Users\\张三二\\python.exe"
    # A Chinese folder outside the profile: written in the ANSI code page (cp936 on Chinese Windows)…
    data = xlam.settings_bytes("D:\\软件\\Python311\\pythonw.exe", environ, "cp936")
    assert data.decode("cp936").startswith('"INTERPRETER_WIN","D:\\软件\\Python311\\pythonw.exe"\r\n')
    # …and refused where that code page has no such characters, with what to do.
    with pytest.raises(xlam.AddinError, match="minsheng addin install"):
        xlam.settings_bytes("D:\\软件\\pythonw.exe", environ, "cp1252")


# ---------------------------------------------------------------------------------------------
# vbaProject.bin read structurally (MS-OVBA), not only compared byte for byte.

def vba_project(built: Path):
    import olefile

    with zipfile.ZipFile(built) as package:
        return olefile.OleFileIO(package.read("xl/vbaProject.bin"))


def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """The dir stream's records in order (MS-OVBA 2.3.4.2); PROJECTVERSION's size field says 4
    but 6 bytes follow."""
    records, at = [], 0
    while at < len(data):
        record, size = struct.unpack_from("<HI", data, at)
        size = 6 if record == 0x0009 else size
        records.append((record, data[at + 6:at + 6 + size]))
        at += 6 + size
        if record == 0x0010:  # the terminator: nothing may follow
            assert at == len(data) and size == 0
    return records


def projectwm_names(data: bytes) -> list[str]:
    """PROJECTwm (MS-OVBA 2.3.3): pairs of an MBCS name and its UTF-16 twin, ended by two zeros."""
    names, at = [], 0
    while data[at:at + 2] != b"\x00\x00":
        end = data.index(b"\x00", at)
        name = data[at:end].decode("cp1252")
        at = end + 1
        wide = at
        while data[wide:wide + 2] != b"\x00\x00":
            wide += 2
        assert data[at:wide].decode("utf-16-le") == name
        names.append(name)
        at = wide + 2
    assert at + 2 == len(data)
    return names


def test_vba_project_is_consistent_the_way_excel_reads_it(built):
    from oletools.olevba import decompress_stream

    ole = vba_project(built)
    streams = ["/".join(path) for path in ole.listdir()]
    assert not [name for name in streams if "__SRP_" in name]  # no stale compiled caches
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("cc61ffff000000")  # the 7-byte form
    records = dir_records(bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))))
    assert records[-1] == (0x0010, b"")
    assert dict(records)[0x0004] == b"minsheng"  # PROJECTNAME
    assert dict(records)[0x0003] == struct.pack("<H", 1252)  # the code page the sources must fit
    modules, offsets, streams_of = [], {}, {}
    for record, data in records:
        if record == 0x0019:  # MODULENAME
            modules.append(data.decode("cp1252"))
        elif record == 0x001A:  # MODULESTREAMNAME
            streams_of[modules[-1]] = data.decode("cp1252")
        elif record == 0x0031:  # MODULEOFFSET
            offsets[modules[-1]] = struct.unpack("<I", data)[0]
    project = ole.openstream("PROJECT").read().decode("cp1252")
    declared = re.findall(r"(?m)^(?:Module|Document|Class)=([^/\r\n]+)", project)
    assert sorted(declared) == sorted(modules) == sorted(projectwm_names(ole.openstream("PROJECTwm").read()))
    assert re.search(r'(?m)^Name="minsheng"', project)
    for module in modules:  # each module's source starts where MODULEOFFSET says
        raw = ole.openstream(f"VBA/{streams_of[module]}").read()
        source = bytes(decompress_stream(bytearray(raw[offsets[module]:]))).decode("cp1252")
        assert source.startswith("Attribute VB_Name") and f'"{module}"' in source.splitlines()[0]
    everything = b"".join(ole.openstream(name).read() for name in streams)
    assert b"MyAddin" not in everything and b"RibbonMyAddin" not in everything
    assert "MyAddin" not in project


def test_chinese_messages_survive_the_projects_code_page(built):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(built))
    code = {name: source for _, _, name, source in parser.extract_macros()}
    parser.close()
    ours = code["RibbonMinsheng.bas"]
    assert ours.isascii()
    shown = {"".join(chr(int(c, 16)) for c in codes.split()) for codes in re.findall(r'U\("([0-9A-F ]+)"\)', ours)}
    written = (Path(xlam.__file__).parent.parent / "vba" / "RibbonMinsheng.bas").read_text(encoding="utf-8")
    meant = {text for text in re.findall(r'"((?:[^"]|"")*)"', written) if not text.isascii()}
    assert shown == meant and "民生工程" in shown
    assert any("minsheng addin install" in text for text in shown)  # a missing Python says how to fix it
    assert any("启用编辑" in text for text in shown)  # Protected View
    # The guard runs before RunPython, so no click ends in VBA's run-time error 91.
    on_button = re.search(r"Sub OnButton.*?End Sub", ours, re.S).group()
    assert on_button.index("ReadyToRun") < on_button.index("RunPython")
    assert "ActiveWorkbook Is Nothing" in ours and 'GetConfig("INTERPRETER_WIN"' in ours


def test_vba_source_with_chinese_outside_a_string_is_refused():
    assert xlam.ascii_vba('MsgBox "说 ""好"""\n') == 'MsgBox U("8BF4 0020 0022 597D 0022")\r\n'
    assert xlam.ascii_vba("x = \"it's\" ' a comment\n") == "x = \"it's\" ' a comment\r\n"
    with pytest.raises(xlam.AddinError, match="第 2 行"):
        xlam.ascii_vba("Option Explicit\n' 中文注释\n", "M.bas")


def test_a_register_edited_after_the_period_was_consolidated_is_said_not_applied(excel):
    import openpyxl

    book = openpyxl.load_workbook(excel.workbook)
    sheet = book["任务台账"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("年度目标值") + 1).value = 99999
    book.save(excel.workbook)
    addin.dispatch("templates", excel)
    text, error = excel.messages[-1]
    assert not error and "已为 21 个牵头单位生成" in text
    assert "目标值由" in text and "改为 99999" in text and "--adopt-register" in text
    addin.dispatch("consolidate", excel)
    told = next(text for text, _ in reversed(excel.messages) if "任务台账在" in text)
    assert "本期仍按原来的任务台账处理" in told
