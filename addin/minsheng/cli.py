"""The ``minsheng`` command line (formats §1). It only translates: arguments in, Chinese text out.

Exit codes: 0 the command did its job (problems found in submissions are results, not failures);
1 it could not (bad config, bad register, file locked…), with a one-line Chinese reason;
2 the command line itself was wrong (unknown option, a period like 2020-13, a file that isn't there).

Output survives any console: characters the console's encoding lacks (a GBK console, a redirect
on Chinese Windows) are replaced, never fatal. The pipeline is imported only once the command
line has been read, so that ``--help`` is quick and Ctrl-C at any moment ends with one line.
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import re
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from . import __version__

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_LISTED = 20  # register problems listed before "…and N more"
ABORTED = "已中止：输出文件要么保持原样，要么已是完整的新结果，可以重新运行"  # printed as it is
EXAMPLES = """示例：
  minsheng demo                        用自带示例跑一遍完整流程
  minsheng init 民生工程2021            新建工作文件夹
  minsheng extract 工作要点.docx         从工作要点生成任务台账草稿
  minsheng templates --period 2020-06  生成本期填报模板
  minsheng validate 收集\\2020-06\\*.xlsx  检查收回的填报表
  minsheng run                         汇总并生成通报"""


class UsageError(Exception):
    """A mistake on the command line that argparse cannot see (a file argument matching nothing)."""


def progress(items: Iterable[T], label: str = "处理中") -> Iterator[T]:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""
    items = list(items)
    total = len(items)
    show = sys.stderr is not None and sys.stderr.isatty() and total > 1
    start = time.perf_counter()
    for done, item in enumerate(items):
        if show:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write(f"\r{label} [{'#' * 30}] {total}/{total} 用时 {time.perf_counter() - start:.1f} 秒\n")


# ---------------------------------------------------------------------------------------------
# The command line

class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


_ARGPARSE_PHRASES = (
    (re.compile(r"^argument (\S+): "), r"参数 \1："),
    (re.compile(r"the following arguments are required: "), "缺少参数："),
    (re.compile(r"invalid choice: "), "无效的选择："),
    (re.compile(r"\(choose from "), "（可选 "),
    (re.compile(r"unrecognized arguments: "), "无法识别的参数："),
    (re.compile(r"expected one argument"), "需要一个值"),
    (re.compile(r"ambiguous option: "), "有歧义的选项："),
    (re.compile(r" could match "), " 可能是 "),
    (re.compile(r"^one of the arguments (.*) is required"), r"需要以下参数之一：\1"),
)


class _Parser(argparse.ArgumentParser):
    """argparse with its own English phrases in Chinese."""

    def __init__(self, *args, parents=(), **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")
        for parent in parents:  # after the titles are Chinese, so the options share one heading
            self._add_container_actions(parent)

    def format_help(self) -> str:
        # Section headings end with a full-width colon, as the rest of the Chinese text does.
        return re.sub(r"(?m)^(\S[^\n]*?):$", r"\1：", super().format_help())

    def error(self, message: str):
        for english, chinese in _ARGPARSE_PHRASES:
            message = english.sub(chinese, message)
        message = message.replace(")", "）") if "（可选" in message else message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：错误：{message}\n")


def _period(text: str) -> str:
    """``--period``: checked while the command line is read, so a wrong one is a usage error."""
    from .model import Period

    try:
        return str(Period.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common._optionals.title = "选项"  # the heading its options join in each command's help
    common.add_argument("--config", metavar="文件", type=Path,
                        help="配置文件或工作文件夹（默认：当前文件夹下的 config.ini）")
    common.add_argument("--period", metavar="YYYY-MM", type=_period,
                        help="统计期，如 2020-06 表示 1-6 月（默认：config.ini 中的 current）")

    parser = _Parser(prog="minsheng", description="民生工程进度填报、汇总与通报工具。", epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"minsheng {__version__}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)
    sub.required = True

    def command(name: str, text: str, description: str = "", common_options: bool = True):
        return sub.add_parser(name, help=text, description=description or text,
                              parents=[common] if common_options else [])

    p = command("init", "新建工作文件夹（配置文件、空白任务台账和各文件夹）",
                "新建工作文件夹：config.ini、空白任务台账和 下发、收集、汇总 文件夹。已有的文件不会被覆盖。",
                common_options=False)
    p.add_argument("folder", metavar="文件夹", type=Path, help="要新建或补全的工作文件夹")
    p.add_argument("--sample", action="store_true", help="放入自带的示例任务台账（2020年全市民生工作要点）")

    adopt_help = ("本期改用当前的任务台账（默认按本期下发填报表或首次汇总时的任务台账，台账之后的改动不用于本期）；"
                  "会列出本期因此变化的完成率")
    rerun_help = "本期数值有更正时，接着按顺序重新汇总本年以后已汇总过的各期（它们的上期数据以本期为准）"
    p = command("templates", "按任务台账为每个牵头单位生成填报模板，放在 下发/统计期/ 中")
    p.add_argument("--adopt-register", action="store_true", help=adopt_help)
    p = command("consolidate", "汇总 收集/统计期/ 中的填报表：检查、计算完成率、对照时序进度，输出到 汇总/统计期/")
    p.add_argument("--adopt-register", action="store_true", help=adopt_help)
    p.add_argument("--rerun-later", action="store_true", help=rerun_help)
    p = command("circular", "按本期最近一次汇总的结果和通报模板生成进展情况通报（Word），放在 汇总/统计期/（不重新读取填报表）")
    p.add_argument("--pdf", action="store_true", help="同时生成 PDF（需要安装 LibreOffice）")
    p.add_argument("--check-template", action="store_true", help="只检查通报模板中的标签，不生成通报")
    p = command("run", "先汇总，再生成通报")
    p.add_argument("--pdf", action="store_true", help="同时生成 PDF（需要安装 LibreOffice）")
    p.add_argument("--adopt-register", action="store_true", help=adopt_help)
    p.add_argument("--rerun-later", action="store_true", help=rerun_help)
    p = command("validate", "检查填好的填报表（是否本台账本期的模板、数字是否为数字），不汇总",
                "检查填好的填报表（是否本台账本期的模板、数字是否为数字），不汇总。\n"
                "可以给文件、文件夹或通配符，如 收集\\2020-06\\*.xlsx（通配符由本程序展开）。")
    p.add_argument("files", metavar="文件", nargs="+", help="要检查的填报表、文件夹或通配符")
    p = command("addin", "Excel 加载项：生成、安装、卸载",
                "Excel 加载项（功能区“民生工程”选项卡）。安装后重新打开 Excel 即可看到。", common_options=False)
    p.add_argument("action", metavar="操作", choices=["build", "install", "uninstall"],
                   help="build 生成 minsheng.xlam；install 安装到本机 Excel；uninstall 卸载")
    p.add_argument("--out", metavar="文件", type=Path, default=None,
                   help="build 时的输出文件（默认：当前文件夹下的 minsheng.xlam）")
    p = command("extract", "从工作要点（.txt 或 .docx）生成任务台账草稿，供核对",
                "从政府工作要点或实施方案（.txt 或 .docx）中找出各项任务的量化目标，生成任务台账草稿。\n"
                "每个指标注明来源原文；需要人工判断的行标了底色，并在“需核对”列写明原因，"
                "核对改正后清空该列，草稿即可作为任务台账使用。", common_options=False)
    p.add_argument("plan", metavar="计划文件", type=Path, help="工作要点或实施方案（.txt 或 .docx）")
    p.add_argument("--out", metavar="文件", type=Path, default=Path("任务台账_草稿.xlsx"),
                   help="输出的台账草稿（默认：当前文件夹下的 任务台账_草稿.xlsx）；已有的文件不会被覆盖")
    p.add_argument("--force", action="store_true", help="输出文件已存在时替换它（计划文件本身除外）")
    p = command("demo", "用自带示例跑一遍完整流程",
                "用自带的示例任务台账新建演示文件夹，生成填报模板、模拟各单位报送、汇总并生成通报。",
                common_options=False)
    p.add_argument("folder", metavar="文件夹", type=Path, nargs="?", default=Path("民生工程演示"),
                   help="演示文件夹（默认：当前文件夹下的“民生工程演示”）")
    parser.commands = sub.choices
    return parser


# ---------------------------------------------------------------------------------------------
# Running a command

def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    try:
        parser = _parser()
        args, extras = parser.parse_known_args(argv)
        if extras:  # said with the command's own usage line, not the program's
            parser.commands[args.command].error(f"无法识别的参数：{' '.join(extras)}")
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return aborted()
    except BrokenPipeError:
        # The reader of our output went away (``| more``, ``| head``): the rest is not wanted.
        _silence_stdout()
        return EXIT_OK
    except UsageError as exc:
        _fail(f"{exc}（用 minsheng {args.command} -h 查看用法）")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - every error ends as one Chinese line
        return _failed(exc)


def aborted() -> int:
    """Ctrl-C: every output is written atomically, so nothing half-written is left."""
    print(ABORTED, file=sys.stderr)
    return EXIT_FAILED


def _interrupted(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__ or seen.__cause__
    return False


def _failed(exc: Exception) -> int:
    from .errors import MinshengError, os_failure

    if _interrupted(exc):  # Ctrl-C inside an import turns into an ImportError
        return aborted()
    if isinstance(exc, MinshengError):
        _fail(exc)
        # The problems under the message, unless the message is the one problem itself.
        listed = [] if [str(p) for p in exc.problems] == [str(exc)] else exc.problems
        for problem in listed[:MAX_LISTED]:
            print(f"  - {problem}", file=sys.stderr)
        if len(listed) > MAX_LISTED:
            print(f"  …另有 {len(listed) - MAX_LISTED} 处问题", file=sys.stderr)
        return EXIT_FAILED
    if isinstance(exc, OSError):
        _fail(os_failure(exc))
        return EXIT_FAILED
    # An unexpected bug: one line for the user, the details in a log file.
    log = Path.cwd() / "minsheng-错误日志.txt"
    try:
        log.write_text(traceback.format_exc(), encoding="utf-8")
        where = f"，详细信息已写入 {log}"
    except OSError:
        where = ""
    _fail(f"程序内部出错{where}；请把该文件发给技术支持")
    return EXIT_FAILED


def _tolerant_streams() -> None:
    """A console or file that can't show a character gets ``?``, never an exception."""
    for stream in (sys.stdout, sys.stderr):
        try:
            # Line by line: each stage's lines show as it ends, also through a pipe or a log.
            stream.reconfigure(errors="replace", line_buffering=True)
        except (AttributeError, ValueError):  # None under pythonw, or not a text stream
            pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _fail(reason: object) -> None:
    print(f"错误：{reason}", file=sys.stderr)


def _config(args):
    from .config import load_config

    return load_config(args.config, args.period)


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        print(f"  注意：{note}")


def _holding(command: str):
    """The command holds the working folder's lock from its first step to its last (``run``
    consolidates, then writes the circular; ``--rerun-later`` consolidates period after period), so
    that no other run slips in between; each step takes the lock again, re-entrantly."""
    def wrap(function):
        @functools.wraps(function)
        def held(args) -> int:
            from .pipeline import working

            with working(_config(args), command):
                return function(args)
        return held
    return wrap


def _cmd_init(args) -> int:
    from .workfolder import init_workfolder, sample_register

    created, kept = init_workfolder(args.folder, sample_register() if args.sample else None)
    print(f"工作文件夹：{args.folder.resolve()}")
    for path in created:
        print(f"  新建 {path.name}{'/' if path.is_dir() else ''}")
    for path in kept:
        print(f"  已存在，未改动 {path.name}{'/' if path.is_dir() else ''}")
    register = ("核对“任务台账.xlsx”中的示例任务和指标（可按本地实际修改）" if args.sample else
                "核对已有的“任务台账.xlsx”" if any(path.name == "任务台账.xlsx" for path in kept)
                else "在“任务台账.xlsx”中填写任务和指标")
    print(f"下一步：{register}；用记事本打开 config.ini，改好统计期（current）"
          f"和发文单位（issuer）；然后在该文件夹中运行 minsheng templates")
    return EXIT_OK


def _cmd_templates(args) -> int:
    from .pipeline import make_templates

    result = make_templates(_config(args), lambda units: progress(units, "生成填报模板"), args.adopt_register)
    _print_templates(result)
    return EXIT_OK


def _print_templates(result) -> None:
    register = result.register
    print(f"任务台账：{len(register.tasks)} 项任务，{len(register.indicators)} 个指标，"
          f"{len(register.units)} 个牵头单位")
    folder = result.paths[0].parent if result.paths else None
    print(f"已为 {len(result.paths)} 个牵头单位生成 {result.period.label}填报模板：{folder}")
    if result.inbox is not None:
        print(f"各单位报回的填报表请放到：{result.inbox}")
    _print_notes(result.notes)


def _cmd_validate(args) -> int:
    from .model import Severity
    from .pipeline import validate_files

    files = expand_arguments(args.files)
    checked = validate_files(_config(args), files, lambda items: progress(items, "检查填报表"))
    clean = failed = 0
    for item in checked:
        errors = item.errors
        notices = [p for p in item.problems if p.severity is Severity.NOTICE]
        name = item.name or item.path.name
        if not item.problems:
            clean += 1
            print(f"[通过] {name}：{item.submission.unit}，{len(item.submission.values)} 个指标，未发现问题")
            continue
        bad = item.failed
        failed += bad
        unit = f"{item.submission.unit}，" if item.submission else ""
        print(f"[{'错误' if bad else '提示'}] {name}：{unit}{len(errors)} 个错误，{len(notices)} 条提示")
        for problem in item.problems:
            print(f"    [{problem.severity.value}] {problem}")
    noticed = len(checked) - clean - failed
    print(f"共检查 {len(checked)} 个文件：{clean} 个无问题，{failed} 个有错误"
          + (f"，{noticed} 个只有提示" if noticed else ""))
    return EXIT_OK


def expand_arguments(arguments: list[str]) -> list[Path]:
    """Files, folders and wildcards as typed (cmd.exe and PowerShell pass ``*.xlsx`` unexpanded).
    An argument that matches nothing is a usage error; a wildcard skips Excel's ``~$`` files."""
    from .untrusted.inbox import is_litter

    found: dict[str, Path] = {}
    unmatched = []
    for argument in arguments:
        if os.path.lexists(argument):  # a name that really holds [ or * is taken as it is
            matches = [Path(argument)]
        elif "*" in argument or "?" in argument:
            # Only * and ? are wildcards, as in cmd.exe: 报表[第二批]*.xlsx means those brackets.
            pattern = re.sub(r"[\[\]]", lambda m: f"[{m.group()}]", argument)
            matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))]
            matches = [m for m in matches if not is_litter(m)]
        else:
            matches = []
        if not matches:
            unmatched.append(argument)
        for match in matches:
            found.setdefault(os.path.normcase(os.path.abspath(match)), match)
    if unmatched:
        listed = "、".join(f"“{a}”" for a in unmatched)
        raise UsageError(f"{listed} 没有对应的文件或文件夹，请检查路径和文件名")
    return list(found.values())


@_holding("汇总")
def _cmd_consolidate(args) -> int:
    from .pipeline import run_consolidation

    config = _config(args)
    done = run_consolidation(config, lambda files: progress(files, "读取填报表"), args.adopt_register)
    _print_consolidation(done)
    return _rerun_later(args, config, done) or _ledger_outcome(done)


def _rerun_later(args, config, done) -> int:
    """``--rerun-later``: the stale later periods, in order; the first failure is the outcome."""
    from .pipeline import rerun_later

    if not (args.rerun_later and done.stale):
        return EXIT_OK
    print(f"按 --rerun-later 依次重新汇总：{'、'.join(str(p) for p in done.stale)}")
    for later in rerun_later(config, done.stale, lambda files: progress(files, "读取填报表")):
        _print_consolidation(later)
        if later.ledger_error:
            return _ledger_outcome(later)
    return EXIT_OK


def _ledger_outcome(done) -> int:
    """The outputs are written either way; a ledger that could not be written still fails the run."""
    if done.ledger_error:
        _fail(done.ledger_error)
        return EXIT_FAILED
    return EXIT_OK


def _print_consolidation(done) -> None:
    from .model import STATUS_ORDER
    from .numbers import format_percent

    result, counts, prog = done.result, done.result.counts, done.result.programme
    print(f"{result.period.label}汇总完成（时序进度 {format_percent(result.period.schedule)}）")
    print(f"  读取文件 {counts.files_read} 个：采用 {counts.files_accepted} 个，拒收或重复未采用 "
          f"{counts.files_rejected} 个；采用数值 {counts.indicators_accepted} 个")
    missing = [u.name + ("（收到的报表未能采用）" if result.collection.refused_files(u.name) else "")
               for u in result.missing_units]
    print(f"  问题清单 {counts.problems} 条（其中错误 {counts.errors} 条）；未报送单位 {counts.units_missing} 个"
          + (f"：{'、'.join(missing)}" if missing else ""))
    print(f"  {prog.sentence}")
    shown = [f"{s.value} {prog.counts[s]}" for s in STATUS_ORDER[::-1] if prog.counts[s]]
    print(f"  指标状态：{'，'.join(shown)}")
    for path in done.outputs:
        print(f"  输出：{path}")
    _print_notes(result.notes)


def _cmd_circular(args) -> int:
    from .pipeline import check_circular_template, make_circular

    config = _config(args)
    if args.check_template:
        path, problems = check_circular_template(config)
        print(f"通报模板：{path}")
        for problem in problems:
            print(f"  [错误] {problem}")
        print("  未发现问题" if not problems else f"  共 {len(problems)} 处问题")
        return EXIT_OK if not problems else EXIT_FAILED
    _print_circular(make_circular(config, pdf=args.pdf), config.public)
    return EXIT_OK


def _print_circular(rendered, public: bool = False) -> None:
    variant = "对外版，不含排名和未报送单位名单" if public else "内部版"
    print(f"通报已生成（{variant}）：{rendered.path}（模板：{rendered.template}）")
    if rendered.pdf:
        print(f"PDF：{rendered.pdf}")
    _print_notes(rendered.notes)


@_holding("汇总并生成通报")
def _cmd_run(args) -> int:
    from .pipeline import make_circular, run_consolidation

    config = _config(args)
    done = run_consolidation(config, lambda files: progress(files, "读取填报表"), args.adopt_register,
                             circular_follows=True)
    _print_consolidation(done)
    _print_circular(make_circular(config, pdf=args.pdf, result=done.result.period_result), config.public)
    return _rerun_later(args, config, done) or _ledger_outcome(done)


def _cmd_addin(args) -> int:
    from .xlam import ADDIN_NAME, build_xlam, install_addin, uninstall_addin

    if args.action == "build":
        print(f"已生成加载项：{build_xlam(args.out or Path(ADDIN_NAME)).resolve()}")
    elif args.action == "install":
        addin, settings = install_addin()
        print(f"已安装加载项：{addin}\n已写入 Python 路径：{settings}")
        print("请重新打开 Excel：功能区会出现“民生工程”选项卡。如提示宏已被禁用，见 README 的“信任中心”一节。")
    else:
        removed = uninstall_addin()
        print("已卸载：" + "、".join(str(p) for p in removed) if removed else "本机没有安装加载项，无需卸载")
    return EXIT_OK


def _cmd_demo(args) -> int:
    from .pipeline import run_demo

    print(f"演示文件夹：{args.folder.resolve()}")

    def report(stage: str, outcome) -> None:  # each stage as soon as it is done
        if stage == "templates":
            _print_templates(outcome)
        elif stage == "simulated":
            print(f"模拟各单位报送 {len(outcome.paths)} 个文件到 {outcome.paths[0].parent}"
                  f"（{outcome.missing_unit}未报送，{outcome.twice_unit}报送了两次，另有几处不规范的填写）")
        elif stage == "consolidated":
            _print_consolidation(outcome)
        else:
            _print_circular(outcome)

    result = run_demo(args.folder, lambda items: progress(items, "处理中"), report)
    return _ledger_outcome(result.consolidated)


def _cmd_extract(args) -> int:
    from .register.extract import extract, write_draft

    plan = args.plan
    if "*" in str(plan) or "?" in str(plan):  # cmd.exe passes 要点*.docx as typed
        matches = expand_arguments([str(plan)])
        if len(matches) > 1:
            raise UsageError(f"“{plan}”对应 {len(matches)} 个文件（{'、'.join(m.name for m in matches[:5])}），"
                             f"请只指定一个计划文件")
        plan = matches[0]
    out = args.out
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"--out “{out}” 须是 .xlsx 文件（如 任务台账_草稿.xlsx）")
    if out.exists() and plan.exists() and out.resolve() == plan.resolve():
        raise UsageError(f"“{out}” 就是计划文件本身，不能覆盖；请用 --out 另取文件名")
    if out.exists() and not args.force:
        raise UsageError(f"“{out}” 已存在，未覆盖（它可能是已核对过的台账）；请用 --out 另取文件名，"
                         f"或确认要替换时加 --force")
    draft = extract(plan)
    out = write_draft(draft, out)
    indicators = len(draft.rows) - draft.milestones
    print(f"从 {plan} 中找到 {len(draft.tasks)} 项任务，拟设指标 {len(draft.rows)} 个："
          f"量化指标 {indicators} 个，无量化目标的里程碑 {draft.milestones} 个")
    print(f"  需核对 {draft.flagged} 行（已标底色，原因写在“需核对”列）" if draft.flagged
          else "  没有标为需核对的行；仍请对照“来源原文”通读一遍")
    print(f"  输出：{out.resolve()}")
    print("下一步：逐行对照“来源原文”核对草稿，改正后清空“需核对”列；然后把它改名为“任务台账.xlsx”"
          "放进工作文件夹，运行 minsheng templates")
    return EXIT_OK


_COMMANDS = {"init": _cmd_init, "extract": _cmd_extract, "templates": _cmd_templates, "validate": _cmd_validate,
             "consolidate": _cmd_consolidate, "circular": _cmd_circular, "run": _cmd_run, "addin": _cmd_addin,
             "demo": _cmd_demo}
