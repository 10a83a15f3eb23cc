"""The ``minsheng`` command line (SPEC §2.1). It only translates: arguments in, Chinese text out.

Exit codes: 0 the command did its job (problems found in submissions are results, not failures);
1 it could not (bad config, bad register, file locked…), with a one-line Chinese reason;
2 the command line itself was wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from . import __version__
from .config import load_config
from .errors import MinshengError, RegisterError, os_failure
from .model import STATUS_ORDER, Severity
from .numbers import format_percent
from .pipeline import (
    check_circular_template,
    make_circular,
    make_templates,
    run_consolidation,
    run_demo,
    validate_files,
)
from .workfolder import init_workfolder, sample_register
from .xlam import ADDIN_NAME, build_xlam, install_addin, uninstall_addin

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_LISTED = 20  # register problems listed before "…and N more"


def progress(items: Iterable[T], label: str = "处理中") -> Iterator[T]:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""
    items = list(items)
    total = len(items)
    show = sys.stderr.isatty() and total > 1
    start = time.perf_counter()
    for done, item in enumerate(items):
        if show:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write(f"\r{label} [{'#' * 30}] {total}/{total} 用时 {time.perf_counter() - start:.1f} 秒\n")


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with its own English phrases in Chinese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"

    def error(self, message: str):
        for english, chinese in (("the following arguments are required", "缺少参数"),
                                 ("invalid choice", "无效的选择"), ("unrecognized arguments", "无法识别的参数"),
                                 ("expected one argument", "需要一个值"), ("argument ", "参数 "),
                                 ("(choose from", "(可选")):
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：错误：{message}\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="文件", type=Path,
                        help="配置文件路径（默认：当前文件夹下的 config.ini）")
    common.add_argument("--period", metavar="YYYY-MM",
                        help="统计期，如 2020-06 表示 1-6 月（默认：config.ini 中的 current）")

    parser = _Parser(prog="minsheng", description="民生工程进度填报、汇总与通报工具。",
                     epilog="示例：minsheng demo    minsheng templates --period 2020-06",
                     add_help=False)
    parser.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    parser.add_argument("--version", action="version", version=f"minsheng {__version__}",
                        help="显示版本号")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)
    sub.required = True

    def command(name: str, text: str, **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text, parents=[common], add_help=False, **kwargs)
        p.add_argument("-h", "--help", action="help", help="显示帮助并退出")
        return p

    p = sub.add_parser("init", help="新建工作文件夹（配置文件、空白任务台账和各文件夹）",
                       description="新建工作文件夹：config.ini、空白任务台账和 下发/收集/汇总 文件夹。"
                                   "已有的文件不会被覆盖。", add_help=False)
    p.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    p.add_argument("folder", metavar="文件夹", type=Path, help="要新建或补全的工作文件夹")
    p.add_argument("--sample", action="store_true", help="放入自带的示例任务台账（2020年全市民生工作要点）")

    command("templates", "按任务台账为每个牵头单位生成填报模板，放在 下发/统计期/ 中")
    command("consolidate", "汇总 收集/统计期/ 中的填报表：检查、计算完成率、对照时序进度，输出到 汇总/统计期/")
    p = command("circular", "按汇总数据和通报模板生成进展情况通报（Word），放在 汇总/统计期/")
    p.add_argument("--pdf", action="store_true", help="同时生成 PDF（需要安装 LibreOffice）")
    p.add_argument("--check-template", action="store_true", help="只检查通报模板中的标签，不生成通报")
    p = command("run", "先汇总，再生成通报")
    p.add_argument("--pdf", action="store_true", help="同时生成 PDF（需要安装 LibreOffice）")
    p = command("validate", "检查填好的填报表（是否本台账本期的模板、数字是否为数字），不汇总")
    p.add_argument("files", metavar="文件", type=Path, nargs="+", help="要检查的填报表")
    p = sub.add_parser("addin", help="Excel 加载项：生成、安装、卸载", add_help=False,
                       description="Excel 加载项（功能区“民生工程”选项卡）。安装后重新打开 Excel 即可看到。")
    p.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    p.add_argument("action", metavar="操作", choices=["build", "install", "uninstall"],
                   help="build 生成 minsheng.xlam；install 安装到本机 Excel；uninstall 卸载")
    p.add_argument("--out", metavar="文件", type=Path, default=Path(ADDIN_NAME),
                   help="build 时的输出文件（默认：当前文件夹下的 minsheng.xlam）")
    p = sub.add_parser("demo", help="用自带示例跑一遍完整流程", add_help=False,
                       description="用自带的示例任务台账新建演示文件夹，生成填报模板、模拟各单位报送、汇总并生成通报。")
    p.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    p.add_argument("folder", metavar="文件夹", type=Path, nargs="?", default=Path("民生工程演示"),
                   help="演示文件夹（默认：当前文件夹下的“民生工程演示”）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except MinshengError as exc:
        _fail(exc)
        if isinstance(exc, RegisterError) and len(exc.problems) > 1:
            for problem in exc.problems[:MAX_LISTED]:
                print(f"  - {problem}", file=sys.stderr)
            if len(exc.problems) > MAX_LISTED:
                print(f"  …另有 {len(exc.problems) - MAX_LISTED} 处问题", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        _fail(os_failure(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _fail("已中止")
        return EXIT_FAILED
    except Exception:  # an unexpected bug: one line for the user, the details in a log file
        log = Path.cwd() / "minsheng-错误日志.txt"
        try:
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"，详细信息已写入 {log}"
        except OSError:
            where = ""
        _fail(f"程序内部出错{where}；请把该文件发给技术支持")
        return EXIT_FAILED


def _fail(reason: object) -> None:
    print(f"错误：{reason}", file=sys.stderr)


def _config(args):
    return load_config(args.config, args.period)


def _cmd_init(args) -> int:
    created, kept = init_workfolder(args.folder, sample_register() if args.sample else None)
    print(f"工作文件夹：{args.folder.resolve()}")
    for path in created:
        print(f"  新建 {path.name}{'/' if path.is_dir() else ''}")
    for path in kept:
        print(f"  已存在，未改动 {path.name}{'/' if path.is_dir() else ''}")
    print("下一步：在“任务台账.xlsx”中填写任务和指标，修改 config.ini 中的统计期和发文单位，"
          "然后在该文件夹中运行 minsheng templates")
    return EXIT_OK


def _cmd_templates(args) -> int:
    config = _config(args)
    result = make_templates(config, lambda units: progress(units, "生成填报模板"))
    _print_templates(result)
    return EXIT_OK


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        print(f"  注意：{note}")


def _print_templates(result) -> None:
    register = result.register
    print(f"任务台账：{len(register.tasks)} 项任务，{len(register.indicators)} 个指标，"
          f"{len(register.units)} 个牵头单位")
    folder = result.paths[0].parent if result.paths else None
    print(f"已为 {len(result.paths)} 个牵头单位生成 {result.period.label} 填报模板：{folder}")
    _print_notes(result.notes)


def _cmd_validate(args) -> int:
    config = _config(args)
    checked = validate_files(config, args.files, lambda files: progress(files, "检查填报表"))
    clean = 0
    for item in checked:
        errors = item.errors
        notices = [p for p in item.problems if p.severity is Severity.NOTICE]
        if not item.problems:
            clean += 1
            print(f"✔ {item.path.name}：{item.submission.unit}，{len(item.submission.values)} 个指标，未发现问题")
            continue
        head = "✘" if errors or item.submission is None else "!"
        unit = f"{item.submission.unit}，" if item.submission else ""
        print(f"{head} {item.path.name}：{unit}{len(errors)} 个错误，{len(notices)} 条提示")
        for problem in item.problems:
            print(f"    [{problem.severity.value}] {problem}")
    print(f"共检查 {len(checked)} 个文件，{clean} 个无问题，"
          f"{sum(1 for c in checked if c.errors or c.submission is None)} 个有错误")
    return EXIT_OK


def _cmd_consolidate(args) -> int:
    config = _config(args)
    done = run_consolidation(config, lambda files: progress(files, "读取填报表"))
    _print_consolidation(done)
    return _ledger_outcome(done)


def _ledger_outcome(done) -> int:
    """The outputs are written either way; a ledger that could not be written still fails the run."""
    if done.ledger_error:
        _fail(done.ledger_error)
        return EXIT_FAILED
    return EXIT_OK


def _print_consolidation(done) -> None:
    result, counts, prog = done.result, done.result.counts, done.result.programme
    print(f"{result.period.label}汇总完成（时序进度 {format_percent(result.period.schedule)}）")
    print(f"  读取文件 {counts.files_read} 个：采用 {counts.files_accepted} 个，拒收或重复未采用 "
          f"{counts.files_rejected} 个；采用数值 {counts.indicators_accepted} 个")
    print(f"  问题清单 {counts.problems} 条（其中错误 {counts.errors} 条）；未报送单位 {counts.units_missing} 个"
          + (f"：{'、'.join(u.name for u in result.missing_units)}" if result.missing_units else ""))
    print(f"  {prog.sentence}")
    shown = [f"{s.value} {prog.counts[s]}" for s in STATUS_ORDER[::-1] if prog.counts[s]]
    print(f"  指标状态：{'，'.join(shown)}")
    for path in done.outputs:
        print(f"  输出：{path}")
    _print_notes(result.notes)


def _cmd_circular(args) -> int:
    config = _config(args)
    if args.check_template:
        path, problems = check_circular_template(config)
        print(f"通报模板：{path}")
        for problem in problems:
            print(f"  ✘ {problem}")
        print("  ✔ 未发现问题" if not problems else f"  共 {len(problems)} 处问题")
        return EXIT_OK if not problems else EXIT_FAILED
    _print_circular(make_circular(config, pdf=args.pdf, progress=lambda f: progress(f, "读取填报表")))
    return EXIT_OK


def _print_circular(rendered) -> None:
    print(f"通报已生成：{rendered.path}（模板：{rendered.template}）")
    if rendered.pdf:
        print(f"PDF:{rendered.pdf}")
    for note in rendered.notes:
        print(f"  注意：{note}")


def _cmd_run(args) -> int:
    config = _config(args)
    done = run_consolidation(config, lambda files: progress(files, "读取填报表"))
    _print_consolidation(done)
    _print_circular(make_circular(config, pdf=args.pdf, result=done.result))
    return _ledger_outcome(done)


def _cmd_addin(args) -> int:
    if args.action == "build":
        print(f"已生成加载项：{build_xlam(args.out).resolve()}")
    elif args.action == "install":
        addin, settings = install_addin()
        print(f"已安装加载项：{addin}\n已写入 Python 路径：{settings}")
        print("请重新打开 Excel：功能区会出现“民生工程”选项卡。如提示宏已被禁用，见 README 的“信任中心”一节。")
    else:
        removed = uninstall_addin()
        print("已卸载：" + "、".join(str(p) for p in removed) if removed else "本机没有安装加载项，无需卸载")
    return EXIT_OK


def _cmd_demo(args) -> int:
    result = run_demo(args.folder, lambda items: progress(items, "处理中"))
    print(f"演示文件夹：{result.folder.resolve()}")
    _print_templates(result.templates)
    sim = result.simulated
    print(f"模拟各单位报送 {len(sim.paths)} 个文件到 {result.consolidated.inbox}"
          f"（{sim.missing_unit}未报送，{sim.twice_unit}报送了两次，另有几处不规范的填写）")
    _print_consolidation(result.consolidated)
    _print_circular(result.circular)
    return _ledger_outcome(result.consolidated)


_COMMANDS = {"init": _cmd_init, "templates": _cmd_templates, "validate": _cmd_validate,
             "consolidate": _cmd_consolidate, "circular": _cmd_circular, "run": _cmd_run, "addin": _cmd_addin,
             "demo": _cmd_demo}
