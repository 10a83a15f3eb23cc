"""The office-edited Word template is data, not code: hostile templates as an attacker would write
them (known Jinja server-side template injection payloads), oversized and ambiguous packages, and
the messages a template author gets for honest mistakes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from conftest import fill
from docx import Document
from minsheng.circular import chart, check
from minsheng.circular import document as circular
from minsheng.errors import TemplateError
from minsheng.pipeline import make_circular, make_templates, run_consolidation

PWNED = "/tmp/minsheng-ssti-pwned"
# Payloads of the kind published for Jinja template injection: object internals, the class tree,
# globals and builtins of functions the default environment offers, imports, file reads, and
# tricks that hide underscores or reach attributes through filters.
PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__()[132].__init__.__globals__['popen']('touch " + PWNED + "').read() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').popen('touch " + PWNED + "').read() }}{% endif %}{% endfor %}",
    "{{ config.__class__.__init__.__globals__['os'].popen('touch " + PWNED + "').read() }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('touch " + PWNED + "').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch " + PWNED + "').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch " + PWNED + "').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('touch " + PWNED + "').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch " + PWNED + "').read() }}",
    "{{ lipsum.__globals__.__builtins__.__import__('os').popen('touch " + PWNED + "').read() }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch " + PWNED + "').read() }}",
    "{{ url_for.__globals__.os.popen('touch " + PWNED + "').read() }}",
    "{{ get_flashed_messages.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ ''|attr('__class__') }}",
    "{{ title|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ title['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "{{ title.__class__ }}",
    "{{ annex[0].units.__class__.__init__ }}",
    "{{ title.format.__globals__ }}",
    "{{ title.upper() }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ '%s'|format(title) }}",
    "{{ title|map(attribute='__class__')|list }}",
    "{{ annex|selectattr('__class__')|list }}",
    "{{ annex|pprint }}",
    "{{ title|safe }}",
    "{{ dict(a=1) }}",
    "{{ range(10) }}",
    "{% set ns = namespace(a=1) %}{{ ns }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% from 'os' import popen %}",
    "{% extends '/etc/passwd' %}",
    "{{ 'x' * 1000000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% for x in annex %}{{ loop }}{% endfor %}",
]


@pytest.fixture
def office(workfolder, config):
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 6, "7-2": 500, "8-1": "开工实施"})
    result = run_consolidation(config).result
    return config, result, workfolder / "templates" / "通报模板.docx"


def _refusal(office, monkeypatch, text: str) -> str:
    """The message for a template with ``text`` added as its last paragraph; nothing written."""
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    _with_paragraph(own, text)
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert not list(config.output().glob("通报*"))
    return str(info.value)


def _with_paragraph(own: Path, text: str) -> None:
    doc = Document(str(circular.bundled_template()))
    doc.add_paragraph(text)
    doc.save(str(own))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_known_template_injection_runs_or_shows_internals(office, monkeypatch, payload):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    Path(PWNED).unlink(missing_ok=True)
    _with_paragraph(own, f"附：{payload}")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    message = str(info.value)
    assert not Path(PWNED).exists()
    assert "\n" not in message and message.startswith(f"通报模板 {own}")
    for internal in ("<class", "<function", "object at 0x", "<Template", "<Loop", "root:x", "Traceback"):
        assert internal not in message
    assert "“{{" in message or "“{%" in message or "（含“" in message  # the tag is named
    assert not list(config.output().glob("通报*"))
    # The template check names it too, without running it.
    problems = check.check_template(own)
    assert problems and not Path(PWNED).exists()


def test_the_forbidden_tag_is_named_with_where_it_stands(office, monkeypatch):
    config, result, own = office
    _with_paragraph(own, "{% include 'C:/Windows/win.ini' %}")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "“{% include 'C:/Windows/win.ini' %}”（正文第" in str(info.value)
    assert "不能使用“include”" in str(info.value)


def test_an_undefined_tag_is_named_as_written(office, monkeypatch):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    _with_paragraph(own, "共{{ annex_total.count }}项")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    message = str(info.value)
    assert "“{{ annex_total.count }}”（正文第" in message and "没有的变量“annex_total”" in message
    assert "请检查 {{ }} 与 {% %} 是否成对" not in message  # no generic advice where the cause is known


def test_a_key_the_data_do_not_have_is_named(office, monkeypatch):
    message = _refusal(office, monkeypatch, "{% for page in annex %}{% for unit in page.units %}{{ unit.nme }}{% endfor %}{% endfor %}")
    assert "“{{ unit.nme }}”" in message and "没有的项“nme”" in message


def test_plain_data_tags_filters_and_loops_still_work(office, monkeypatch):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    _with_paragraph(own, "共{{ annex|length }}页；{% for page in annex %}{% for unit in page.units %}"
                         "{{ loop.index }}.{{ unit.unit|trim }}{% if not loop.last %}、{% endif %}{% endfor %}"
                         "{% endfor %}；{{ title|replace('民生', '民生·') }}；{{ missing_count|default('无', true) }}")
    rendered = make_circular(config, result=result.period_result)
    text = "\n".join(p.text for p in Document(str(rendered.path)).paragraphs)
    assert "共1页；1.市教育局、2.市医保局、3.市民政局；2020年1-6月份民生·工程项目进展情况；" in text


def _docx_with_member(name: str, size: int) -> bytes:
    """The bundled template with ``name`` replaced by ``size`` bytes of blanks, compressed as a
    zip bomb is (1 GB of blanks packs into about 1 MB)."""
    source = zipfile.ZipFile(circular.bundled_template())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == name:
                member = zipfile.ZipInfo(name)
                member.compress_type = zipfile.ZIP_DEFLATED
                with target.open(member, "w", force_zip64=True) as stream:
                    chunk = b" " * (1 << 20)
                    for _ in range(size >> 20):
                        stream.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


@pytest.mark.parametrize("how, said", [
    ("bomb", "压缩比异常"),
    ("big part", "远超正常文档"),
    ("twice", "两个同名部件"),
])
def test_a_hostile_template_package_is_refused_before_it_is_read(office, how, said):
    config, result, own = office
    if how == "bomb":
        own.write_bytes(_docx_with_member("word/document.xml", 64 << 20))
    elif how == "big part":  # honest compression, still far beyond any circular
        own.write_bytes(_plain_big_part())
    else:
        good = Document(str(circular.bundled_template()))
        good.add_paragraph("{{ title }}")
        stream = io.BytesIO()
        good.save(stream)
        with zipfile.ZipFile(stream) as package:
            document = package.read("word/document.xml")
        own.write_bytes(_append(circular.bundled_template().read_bytes(), "word/document.xml", document))
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert said in str(info.value) and str(own) in str(info.value)
    with pytest.raises(TemplateError):
        check.check_template(own)


def _plain_big_part() -> bytes:
    """A document.xml of 9 MB of varied text: a ratio no bomb has, but a size no circular has."""
    source = zipfile.ZipFile(circular.bundled_template())
    out = io.BytesIO()
    noise = os.urandom(9 << 19).hex().encode()  # 9 MB of hex digits: compresses about 2:1
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"<!--" + noise + b"--></w:body>")
            target.writestr(info, data)
    return out.getvalue()


def _append(package: bytes, name: str, data: bytes) -> bytes:
    """A second zip entry of the same name (zipfile warns, but writes it)."""
    out = io.BytesIO(package)
    with pytest.warns(UserWarning), zipfile.ZipFile(out, "a") as target:
        target.writestr(name, data)
    return out.getvalue()


def test_circular_on_a_one_gigabyte_template_stays_small(office, tmp_path):
    """``minsheng circular`` as a user runs it, on a template whose document part expands to 1 GB:
    refused from the zip directory, peak memory of the whole command well under 300 MB."""
    config, _, own = office
    own.write_bytes(_docx_with_member("word/document.xml", 1 << 30))
    assert own.stat().st_size < 8 << 20
    minsheng = Path(sys.executable).parent / "minsheng"
    probe = ("import resource, subprocess, sys; "
             "done = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.stderr.buffer.write(done.stdout + done.stderr)")
    if not minsheng.exists():
        pytest.skip("the minsheng command is not installed beside this Python")
    done = subprocess.run([sys.executable, "-c", probe, str(minsheng), "circular", "--config", str(config.path)],
                          capture_output=True, cwd=tmp_path, timeout=300)
    code, peak_kb = map(int, done.stdout.split())
    said = done.stderr.decode("utf-8", "replace")
    assert code == 1 and "疑似" in said and "通报模板" in said, said
    assert peak_kb < 300 * 1024, f"{peak_kb // 1024} MB"
    print(f"peak RSS of minsheng circular on a 1 GB template: {peak_kb // 1024} MB")



# ---------------------------------------------------------------------------------------------
# A new user's hostile round: templates that ask for hours or gigabytes, objects printed through
# lists and filters, tags in footnotes, escaping switched off, honest mistakes.

DOUBLINGS = "{% set s = 'x' %}" + "{% set s = s ~ s %}" * 40 + "{{ s|length }}"
HEAVY = [
    ("{{ ''|center(1500000000) }}", "过大"),
    ("{{ 'x'|indent(1500000000, true) }}", "不能使用过滤器“indent”"),
    ("{{ '%1500000000s' % 'x' }}", "过大"),
    ("{{ '%.1500000000f' % 1.0 }}", "过大"),
    ("{% set l = [1] * 10000 %}" + "{% set l = l + l %}" * 18 + "{{ l|length }}", "过长"),
    (DOUBLINGS, "内存过多"),
    ("{% set l = [1] * 10000 %}{% for a in l %}{% for b in l %}{% for c in l %}x{% endfor %}{% endfor %}{% endfor %}",
     "已中止"),
    ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}", "已中止"),
]


@pytest.mark.parametrize("payload, said", HEAVY)
def test_a_template_that_asks_for_hours_or_gigabytes_is_stopped(office, monkeypatch, payload, said):
    from minsheng.circular import template as docx_template

    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    monkeypatch.setattr(docx_template, "RENDER_SECONDS", 5.0)
    monkeypatch.setattr(docx_template, "RENDER_MEMORY", 256 * 1024 * 1024)
    _with_paragraph(own, payload)
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    message = str(info.value)
    assert said in message and "\n" not in message and message.startswith(f"通报模板 {own}")
    assert "是否成对" not in message  # the cause, not the generic advice
    assert not list(config.output().glob("通报*"))


@pytest.mark.parametrize("payload", [
    "{% for x in annex %}{{ loop|string }}{% endfor %}",
    "{% for x in annex %}{{ loop ~ '' }}{% endfor %}",
    "{% for x in annex %}{{ loop|e }}{% endfor %}",
    "{% for x in annex %}{{ [loop] }}{% endfor %}",
    "{% for x in annex %}{% set l = loop %}{{ l }}{% endfor %}",
    "{% macro m() %}x{% endmacro %}{{ [m] }}",
    "{% macro m() %}x{% endmacro %}{{ {'a': m} }}",
    "{% macro m() %}{{ caller|string }}{% endmacro %}{% call m() %}x{% endcall %}",
    "{{ [chart] }}",
    "{{ {'图': chart} }}",
])
def test_no_object_is_printed_through_a_list_a_filter_or_a_join(office, monkeypatch, payload):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: circular.__file__)  # "a font": the chart is drawn
    monkeypatch.setattr(circular, "completion_chart", _tiny_chart)
    _with_paragraph(own, payload)
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    message = str(info.value)
    for internal in ("<Loop", "<Macro", "object at 0x", "InlineImage"):
        assert internal not in message
    assert "“{{" in message or "“{%" in message or "不能输出程序对象" in message


def _tiny_chart(result, target, font=None) -> str:
    """A real PNG where the chart would be (this machine may have no Chinese font)."""
    import struct

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))
    Path(target).write_bytes(png)
    return ""


def test_the_chart_itself_still_prints(office, monkeypatch):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: circular.__file__)
    monkeypatch.setattr(circular, "completion_chart", _tiny_chart)
    rendered = make_circular(config, result=result.period_result)
    assert len(Document(str(rendered.path)).inline_shapes) == 1


def _with_footnote(own: Path, text: str) -> None:
    """The bundled template with one footnote holding ``text`` (python-docx cannot add footnotes)."""
    footnotes = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                 f'<w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:footnote></w:footnotes>')
    source = zipfile.ZipFile(circular.bundled_template())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>')
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdFn" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
                                    b"</Relationships>")
            target.writestr(info, data)
        target.writestr("word/footnotes.xml", footnotes)
    own.write_bytes(out.getvalue())


@pytest.mark.parametrize("payload, said", [
    ("{{ [self] }}", "self"),
    ("{% include 'x' %}", "include"),
    ("{{ title.__class__ }}", "__class__"),
])
def test_tags_in_footnotes_are_checked_like_the_body(office, payload, said):
    config, result, own = office
    _with_footnote(own, payload)
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert said in str(info.value) and "（脚注第 1 段）" in str(info.value)
    assert any(said in problem for problem in check.check_template(own))


def test_escaping_cannot_be_switched_off(office):
    config, result, own = office
    _with_paragraph(own, "{% autoescape false %}{{ '</w:t></w:r></w:p><w:p><w:r><w:t>X' }}{% endautoescape %}")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "不能使用“autoescape”" in str(info.value) and "（正文第" in str(info.value)


@pytest.mark.parametrize("payload, said", [
    ("{% if lagging_count > 5 %}滞后较多{% endif %}", "数据类型不能这样比较或运算"),
    ("{{ 1 / 0 }}", "除数为 0"),
])
def test_an_honest_mistake_that_fails_while_rendering_names_its_tag(office, monkeypatch, payload, said):
    message = _refusal(office, monkeypatch, payload)
    tag = payload.split("%}")[0] + "%}" if payload.startswith("{%") else payload
    assert f"“{tag}”（正文第" in message and said in message


def test_a_tag_that_would_swallow_the_paragraph_before_it_is_refused(office):
    config, result, own = office
    _with_paragraph(own, "{%- if internal -%}内部{%- endif -%}")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "“-”" in str(info.value) and "整段" in str(info.value)


def test_a_configured_template_that_is_missing_is_said_not_replaced(office):
    import dataclasses

    config, result, own = office
    missing = dataclasses.replace(config, circular_template=config.root / "templates" / "我的模板.docx")
    with pytest.raises(TemplateError) as info:
        make_circular(missing, result=result.period_result)
    assert "我的模板.docx" in str(info.value) and "不存在" in str(info.value)


@pytest.mark.parametrize("what", ["folder", "link"])
def test_something_else_where_the_template_should_be_is_said(office, what, tmp_path):
    config, result, own = office
    own.unlink()
    if what == "folder":
        own.mkdir()
    else:
        own.symlink_to(circular.bundled_template())
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert ("文件夹" if what == "folder" else "符号链接") in str(info.value) and "填报表" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# The second hostile round.

def test_a_filter_cannot_turn_template_text_into_word_markup(office):
    config, result, own = office
    _with_paragraph(own, '{% macro m() %}x{% endmacro %}{{ m()|indent("</w:t></w:r><w:r><w:t>INJECTED", true) }}')
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "不能使用过滤器“indent”" in str(info.value)


@pytest.mark.parametrize("payload", [
    "{{ ([1, 2]|unique) ~ '' }}", "{{ '' ~ ([1, 2]|batch(1)) }}", "{{ [1, 2]|slice(1) }}",
    "{% filter upper %}{{ [1, 2]|unique }}{% endfilter %}", "{% set x %}{{ [1]|unique }}{% endset %}{{ x }}",
])
def test_filters_that_make_generators_print_lists_not_objects(office, monkeypatch, payload):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    _with_paragraph(own, payload)
    text = "\n".join(p.text for p in Document(str(make_circular(config, result=result.period_result).path)).paragraphs)
    assert "generator" not in text.lower() and "0x" not in text.lower() and "[" in text


def test_ordinary_filter_chains_render(office, monkeypatch):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    _with_paragraph(own, "甲{{ ['a', 'b', 'a']|unique|join('、') }}乙{{ ['a', 'b']|reverse|join('、') }}"
                         "丙{{ [1, 2, 3]|batch(2)|list }}丁{% macro m(a) %}[{{ a }}{{ caller() if caller else '' }}]"
                         "{% endmacro %}{{ m(1) }}")
    text = "\n".join(p.text for p in Document(str(make_circular(config, result=result.period_result).path)).paragraphs)
    assert "甲a、b乙b、a丙[[1, 2], [3]]丁[1]" in text


def test_a_tag_nested_past_what_can_be_parsed_is_one_line(office):
    config, result, own = office
    _with_paragraph(own, "{{ " + "not " * 3000 + "1 }}")
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "嵌套" in str(info.value) and "\n" not in str(info.value)


def test_a_failure_in_the_header_is_placed_in_the_header(office, monkeypatch):
    config, result, own = office
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    doc = Document(str(circular.bundled_template()))
    doc.sections[0].header.add_paragraph("{{ 1 / 0 }}")
    doc.save(str(own))
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=result.period_result)
    assert "“{{ 1 / 0 }}”（页眉第 " in str(info.value) and "除数为 0" in str(info.value)


def test_a_macro_that_calls_itself_forever_is_said_so(office, monkeypatch):
    message = _refusal(office, monkeypatch, "{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}")
    assert "无休止地调用自己" in message
