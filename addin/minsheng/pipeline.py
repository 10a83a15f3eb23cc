"""The steps of a reporting cycle, as the CLI and the Excel add-in both call them.

Each function takes a loaded ``Config`` and returns a small result object; printing, progress bars
and message boxes belong to the callers.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from .assess.judge import Judge, RowFiles
from .assess.period import Consolidation, consolidate
from .assess.result import PeriodResult
from .assess.status import Rules
from .circular.place import Rendered, circular_name, template_path
from .config import Config, load_config
from .errors import ConsolidationError, LedgerError
from .files import display_name, run_started
from .forms.writer import write_forms
from .intake.collect import collect_inbox, read_all
from .intake.reader import WRONG_PERIOD
from .lock import working_folder
from .model import IndicatorType, Period, Problem, Severity, Submission
from .numbers import format_percent
from .record import ledger, revisions, versions
from .register.cache import Register
from .report import detail
from .report.summary import Outputs
from .simulate import Simulated, write_submissions
from .untrusted.inbox import TEMPORARY, Entry, is_litter, scan
from .workfolder import init_workfolder, sample_register

Progress = Callable[[Iterable], Iterable]


def working(config: Config, command: str):
    """The working folder's lock (``lock.working_folder``), held while a command writes into it;
    ``command`` names the run to whoever finds the folder busy. Re-entrant within a thread."""
    return working_folder(config.path.parent, command)


def _locked(command: str, folder_of: Callable[[Any], Path] = lambda config: config.path.parent):
    """The step holds the working folder's lock while it runs (one run at a time per working
    folder, through both the CLI and the add-in); a takeover of a stale lock is said in the first
    notes printed: the step's own, unless an outer holder's step said it already."""
    def wrap(function):
        @functools.wraps(function)
        def locked(first, *args, **kwargs):
            with working_folder(folder_of(first), command) as held:
                run_started()
                outcome = function(first, *args, **kwargs)
                notes = held.take_notes()
                if notes:
                    (outcome.notes if hasattr(outcome, "notes") else outcome.result.notes)[:0] = notes
                return outcome
        return locked
    return wrap


def _demo_folder(folder: Path) -> Path:
    Path(folder).mkdir(parents=True, exist_ok=True)  # the demo makes its folder: the lock goes in it
    return Path(folder)


@dataclass
class TemplatesResult:
    register: Register
    period: Period
    paths: list[Path]
    notes: list[str] = field(default_factory=list)
    inbox: Path | None = None  # 收集/P, made ready for the returned files


@_locked("生成填报模板")
def make_templates(config: Config, progress: Progress = iter, adopt_register: bool = False) -> TemplatesResult:
    """Register → one template per 牵头单位 in 下发/P/, with 上期累计 from the ledger.

    A new period's templates are made from the current register, which becomes the period's; a
    period that has one is made from it again (unless ``adopt_register``, or it was never
    consolidated: then the current one replaces it, and the notes say what changed)."""
    remake = versions.consolidated_runs(config.ledger, config.period) == 0
    chosen = versions.period_register(config.ledger, config.register, config.period, config.year,
                                      adopt_register, remake, "templates")
    register, notes = chosen.register, list(chosen.notes)
    milestones = {ind.id for ind in register.indicators if ind.type is IndicatorType.MILESTONE}
    previous = {indicator_id: before.value for indicator_id, before
                in ledger.previous_values(config.ledger, config.period, notes, register).items()
                if indicator_id not in milestones}
    paths = write_forms(register, config, previous=previous, progress=progress)
    try:
        ledger.bind_for_templates(config.ledger, config.period, register)
    except LedgerError as exc:
        notes.append(f"{exc}（填报表已生成）")
    # The folder the returned files go in, ready before the first one arrives.
    config.inbox().mkdir(parents=True, exist_ok=True)
    return TemplatesResult(register, config.period, paths, config.issuer_notes + notes, config.inbox())


@dataclass
class ConsolidateResult:
    result: Consolidation
    outputs: list[Path]
    inbox: Path
    ledger_error: str = ""  # the outputs were written but the ledger was not (Chinese reason)
    stale: list[Period] = field(default_factory=list)  # later periods whose 上期 this run changed


def consolidated(config: Config, progress: Progress = iter) -> Consolidation:
    """Read 收集/P/ and judge every indicator, writing nothing. Input files are only ever read."""
    chosen, collection, previous, notes = _collected(config, progress)
    result = consolidate(chosen.register, collection, config.period, config.thresholds, config.stages, previous,
                         renderer=detail.Renderer)
    result.notes += notes
    return result


def _collected(config: Config, progress: Progress, files: RowFiles | None = None, adopt_register: bool = False):
    chosen = versions.period_register(config.ledger, config.register, config.period, config.year, adopt_register)
    register = chosen.register
    inbox = config.inbox()
    if not inbox.is_dir():
        reason = "不是文件夹" if inbox.exists() else "不存在"
        raise ConsolidationError(f"收件文件夹 {inbox} {reason}；请把各单位报回的填报表放到这里后再汇总")
    notes: list[str] = list(chosen.notes)
    previous = ledger.PreviousValues(config.ledger, config.period, notes, register)
    # Where each file is read, its unit's rows are judged and rendered too (see consolidation).
    after = (Judge(register, config.period, Rules.of(config.thresholds, config.stages),
                   functools.partial(ledger.PreviousValues, config.ledger, config.period, None, register),
                   detail.Renderer, files.folder)
             if files is not None else None)
    collection = collect_inbox(inbox, register, config.period, config.stages, progress, after)
    if not collection.received:
        # Most likely the wrong period or files not yet copied in: never let it replace a real result.
        raise ConsolidationError(f"收件文件夹 {inbox} 中没有任何文件，未汇总，已有的汇总结果和历史数据保持不变；"
                                 f"请把各单位报回的填报表放进去后再汇总（或用 --period 指定统计期）")
    if not collection.chosen:
        # Files, but not one usable form (wrong period, attachments only…): the same caution.
        raise ConsolidationError(f"收件文件夹 {inbox} 中的 {len(collection.received)} 个文件没有一个能作为本期填报表采用，"
                                 f"未汇总，已有的汇总结果和历史数据保持不变；原因如下，改正后再汇总：",
                                 collection.problems)
    return chosen, collection, previous, notes


@_locked("汇总")
def run_consolidation(config: Config, progress: Progress = iter, adopt_register: bool = False,
                      circular_follows: bool = False) -> ConsolidateResult:
    """收集/P/ → 汇总/P/ outputs and the ledger, in one pass over the register: a new revision of
    the period's record, never over an earlier one.

    Outputs that could not be written are an error; a ledger that could not be written is
    reported in ``ledger_error``, and the outputs stand. ``circular_follows``: the caller renders
    the circular next (``run``), so an older one is not called stale."""
    files = RowFiles()
    recorder: revisions.Recorder | None = None
    before: dict | None = None  # the period's previous revision, what this one is compared with
    recording: _Recording | None = None
    written = False
    try:
        chosen, collection, previous, notes = _collected(config, progress, files, adopt_register)
        register = chosen.register
        before = revisions.revision_values(config.ledger, config.period)
        recorder = revisions.Recorder(before, register.renamed)
        with Outputs(config.output(), config.period, register) as out:
            result = consolidate(register, collection, config.period, config.thresholds, config.stages,
                                 previous, renderer=detail.Renderer, sinks=(out, recorder), files=files)
            result.notes += notes
            result.corrections = recorder.corrections()
            if chosen.adopted and chosen.previous is not None:  # the office's change, said as such
                left = _left_by_adoption(chosen.previous, register)
                result.corrections = [c._replace(new_source=f"改按当前任务台账：{left[c.indicator_id]}")
                                      if not c.new and c.indicator_id in left else c for c in result.corrections]
            previous.close()  # reopened if asked again
            # The ledger is written while the workbook is: the record is committed only once the
            # outputs are in place (``written``), and taken back if they could not be.
            recording = _Recording(config.ledger, result, recorder, lambda: written, chosen.adopted)
            out.finish(result)
        written = True
    finally:
        if recording is not None:
            recording.done.set()
            _join(recording)
        if recorder is not None:
            recorder.close()
        files.close()
    result.notes += recording.notes
    if recording.error:
        return ConsolidateResult(result, out.targets, config.inbox(), f"汇总表已生成，但{recording.error}")
    stale = _revised(config, result, recorder.revised, chosen, before, circular_follows)
    return ConsolidateResult(result, out.targets, config.inbox(), stale=stale)


def _revised(config: Config, result: Consolidation, revised: bool, chosen: versions.PeriodRegister,
             before: dict | None, circular_follows: bool) -> list[Period]:
    """Notes on what this revision changed, and the later periods it makes stale."""
    p, changed = config.period, result.corrections
    if revised:
        result.notes.append(f"本期第二次及以后的汇总：与上次汇总相比有 {len(changed)} 个数值变化"
                            + ("（见汇总表“更正记录”）" if changed else ""))
    if chosen.adopted and chosen.previous is not None:
        figures = _figures_changed(chosen.previous, chosen.register, before or {})
        result.notes.append(f"改按当前任务台账后，本期数字有变化的指标 {len(figures)} 个"
                            + (f"：{'；'.join(figures[:20])}" + ("等" if len(figures) > 20 else "") if figures else ""))
    stale = versions.stale_after(config.ledger, p)
    if stale.periods:
        names = "、".join(str(x) for x in stale.periods)
        result.notes.append(f"{names} 的上期数据以本期为准，已过期，请重新汇总（可运行 minsheng consolidate --period {p} "
                            f"--rerun-later，依次重新汇总这些期）")
    made = config.output() / circular_name(p)
    # Written before this run changed anything, or before an earlier run that did.
    if not circular_follows and made.exists() and (changed or chosen.adopted or (
            stale.changed_at and dt.datetime.fromtimestamp(made.stat().st_mtime)
            < dt.datetime.fromisoformat(stale.changed_at))):
        result.notes.append(f"已生成的 {made.name} 是按更正之前的数据写的，已过期，请重新生成通报"
                            f"（minsheng circular --period {p}）")
    return stale.periods


def _left_by_adoption(before: Register, after: Register) -> dict[str, str]:
    """Indicators of P's own register whose values the adopted register no longer takes, and why."""
    now = after.indicator
    renamed = after.renamed
    cancelled = after.cancelled_ids
    reasons = {}
    for ind in before.indicators:
        new = now.get(renamed.get(ind.id, ind.id))
        if new is None:
            reasons[ind.id] = "已撤销" if ind.id in cancelled else "已删除（当前任务台账中没有）"
        elif new.lead_unit != ind.lead_unit:
            reasons[ind.id] = f"未填（改由{new.lead_unit}牵头，{ind.lead_unit}所报数值不再采用）"
    return reasons


def _figures_changed(before: Register, after: Register, values: dict[str, tuple[str, str, str]]) -> list[str]:
    """What adopting the current register does to P's figures: ``7-2 64.8%→64.0%``, and each value
    it no longer takes (``6-1 35.0%→未填（改由…牵头…）``, ``9-1 33.3%→已撤销``)."""
    left = _left_by_adoption(before, after)
    now = after.indicator
    found = []
    for ind in before.indicators:
        value = values.get(ind.id)
        if value is None:
            continue
        new = now.get(after.renamed.get(ind.id, ind.id))
        if ind.id in left:
            found.append(f"{ind.id} {_figure(ind, value[1])}→{left[ind.id]}")
        elif new is not None and new.target != ind.target and _figure(new, value[1]) != _figure(ind, value[1]):
            found.append(f"{new.id} {_figure(ind, value[1])}→{_figure(new, value[1])}")
    return found


def _figure(ind, shown: str) -> str:
    """A value as its 完成率 where it has one, else as it is (a stage, a 上限 level)."""
    if ind.type not in (IndicatorType.CUMULATIVE, IndicatorType.RATE) or not ind.target:
        return shown
    return format_percent(Fraction(Decimal(shown)) / Fraction(ind.target))


def rerun_later(config: Config, periods: list[Period], progress: Progress = iter) -> list[ConsolidateResult]:
    """Consolidate ``periods`` again, in order (``--rerun-later``): their 上期 follows the revision
    just made. Each is read with its own register."""
    return [run_consolidation(replace(config, period=later), progress) for later in periods]


def _join(thread: threading.Thread) -> None:
    """Wait for the ledger thread to commit or roll back even through a second Ctrl-C: stopping
    between the two would leave the ledger's transaction to the process's death."""
    while thread.is_alive():
        try:
            thread.join()
        except KeyboardInterrupt:
            continue


class _Recording(threading.Thread):
    """``ledger.record_run`` in a thread of its own (SQLite and zlib let go of the interpreter while
    they work, so the ledger and the workbook are written at the same time)."""

    def __init__(self, path: Path, result: Consolidation, recorder, written: Callable[[], bool], adopted: bool):
        super().__init__(name="minsheng-ledger", daemon=True)
        self.path, self.result, self.recorder, self.written = path, result, recorder, written
        self.adopted = adopted
        self.done = threading.Event()
        self.notes: list[str] = []
        self.error = ""
        self.start()

    def run(self) -> None:
        def confirm() -> bool:
            self.done.wait()
            return self.written()

        try:
            ledger.record_run(self.path, self.result, self.recorder, self.notes, confirm, self.adopted)
        except LedgerError as exc:
            self.error = str(exc)


@_locked("生成通报")
def make_circular(config: Config, pdf: bool = False, result: PeriodResult | None = None) -> Rendered:
    """The period's result → 汇总/P/通报_P.docx (and a PDF when asked and LibreOffice is there).
    Without ``result``, the one the period's last consolidation recorded: the circular says what
    was judged then, and never reads the inbox again."""
    notes = list(config.issuer_notes)
    if result is None:
        result = ledger.period_result(config.ledger, config.period)
        if result is None:
            p = config.period
            raise ConsolidationError(f"历史数据库中还没有{p.label}（{p}）的汇总结果，未生成通报；请先汇总"
                                     f"（minsheng consolidate --period {p}，或 minsheng run --period {p} 汇总并生成通报）")
        notes += _inbox_changed(result, config.inbox())
    result.earlier = _earlier(config.ledger, result.period)
    from .circular import document  # Word and Jinja only for the commands that render

    rendered = document.render(result, config, config.output() / circular_name(result.period), pdf=pdf)
    rendered.notes[:0] = notes
    return rendered


def _earlier(path: Path, period: Period) -> PeriodResult | None:
    """The latest earlier period's recorded result of the same year (for the progress paragraph);
    None when there is none or it can't be read (the paragraph is then left out)."""
    for month in range(period.month - 1, 0, -1):
        try:
            found = ledger.period_result(path, Period(period.year, month), lists=False)
        except LedgerError:
            return None
        if found is not None:
            return found
    return None


def _inbox_changed(result: PeriodResult, inbox: Path) -> list[str]:
    """A word when files came, went or changed in the inbox after the recorded consolidation."""
    recorded = dict(result.files)
    now: dict[str, float] = {}
    for entry in scan(inbox) if inbox.is_dir() else []:
        try:
            now[entry.name] = entry.path.lstat().st_mtime if not entry.refusal else recorded.get(entry.name, 0.0)
        except OSError:
            now[entry.name] = 0.0
    added = sum(1 for name in now if name not in recorded)
    gone = sum(1 for name in recorded if name not in now)
    changed = sum(1 for name, at in now.items() if recorded.get(name) and at != recorded[name])
    if not (added or gone or changed):
        return []
    what = "、".join(f"{word} {n} 个" for word, n in (("新增", added), ("改动", changed), ("移走", gone)) if n)
    return [f"收集文件夹 {inbox} 在上次汇总（{result.generated_at:%Y-%m-%d %H:%M}）之后有变化（{what}文件），"
            f"通报仍按上次汇总的结果生成；如需纳入这些变化，请先重新汇总（minsheng consolidate 或 minsheng run）"]


def check_circular_template(config: Config) -> tuple[Path, list[str]]:
    """The template the circular would use, and what is wrong with it."""
    from .circular import check

    path = template_path(config)
    return path, check.check_template(path)


@dataclass
class Checked:
    """One file as ``validate`` saw it."""

    path: Path
    submission: Submission | None
    problems: list[Problem] = field(default_factory=list)
    name: str = ""  # as problems name the file (relative to a folder given)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def failed(self) -> bool:
        """Something is wrong in it (a skipped temporary file is not)."""
        return bool(self.errors) or (self.submission is None and not self.problems)


def validate_files(config: Config, files: list[Path], progress: Progress = iter) -> list[Checked]:
    """Check filled templates without consolidating: right register and period, cells filled,
    numbers that are numbers. Unfilled cells are reported as notices. Each file is read in
    isolation, as consolidation reads it."""
    register = versions.period_register(config.ledger, config.register, config.period, config.year).register
    entries = [entry for path in files for entry in _entries(path)]
    readable = [entry for entry in entries if not entry.refusal]
    reads = read_all(readable, register, config.period, config.stages, progress)
    results = []
    for entry in entries:
        if entry.refusal:
            results.append(Checked(entry.path, None, [Problem(entry.name, entry.refusal, severity=entry.severity)],
                                   entry.name))
            continue
        read = next(reads)
        problems = [_as_checked(p) for p in read.problems]
        if read.submission is not None:
            problems += _unfilled(read.submission, register)
        results.append(Checked(entry.path, read.submission, problems, entry.name))
    return results


def _entries(path: Path) -> list[Entry]:
    """A file as it is; a folder as consolidation would see it as an inbox (named from its parent)."""
    if path.is_dir():
        folder = path.resolve().name  # "." and ".." named by what they are
        return [Entry(entry.path, display_name(f"{folder}/{entry.name}" if folder else entry.name),
                      entry.refusal, entry.severity) for entry in scan(path)]
    if is_litter(path):
        return [Entry(path, display_name(path.name), "是 Excel 或 WPS 打开文件时留下的临时文件，不是填报表，已跳过",
                      Severity.NOTICE)]
    if path.name.startswith("~$"):
        return [Entry(path, display_name(path.name), TEMPORARY, Severity.NOTICE)]
    return [Entry(path, display_name(path.name))]


def _as_checked(problem: Problem) -> Problem:
    """The reader's words are the consolidation's; ``validate`` consolidates nothing, and may have
    been pointed at another period's files."""
    message = problem.message.replace("未汇总", "汇总时不会采用")
    if message.startswith(WRONG_PERIOD) and problem.raw:
        message += f"（如果要检查的就是 {problem.raw} 的报表，请加 --period {problem.raw}）"
    return replace(problem, message=message)


def _unfilled(sub: Submission, register: Register) -> list[Problem]:
    problems = []
    for reported in sub.values.values():
        ind = register.indicator[reported.indicator_id]
        empty = not reported.stage if ind.type is IndicatorType.MILESTONE else reported.value is None
        if empty and not reported.error:
            problems.append(Problem(sub.name, f"指标 {ind.id}“{ind.name}”的本期累计完成未填写",
                                    sub.sheet, reported.cell, Severity.NOTICE))
    for label in ("填报人", "联系电话", "填报日期"):
        if not sub.sign_off.get(label):
            problems.append(Problem(sub.name, f"{label}未填写，请在表格下方补上", sub.sheet,
                                    severity=Severity.NOTICE))
    return problems


@dataclass
class DemoResult:
    folder: Path
    config: Config
    templates: TemplatesResult
    simulated: Simulated
    consolidated: ConsolidateResult
    circular: Rendered


@_locked("演示", _demo_folder)
def run_demo(folder: Path, progress: Progress = iter,
             report: Callable[[str, Any], None] = lambda stage, outcome: None) -> DemoResult:
    """The whole cycle on the bundled sample: a working folder, templates, simulated department
    submissions (messy cells, one unit silent, one sending twice), consolidation. ``report`` hears
    each stage's outcome as it is done ("templates", "simulated", "consolidated", "circular")."""
    init_workfolder(folder, register_from=sample_register())
    config = load_config(folder / "config.ini")
    templates = make_templates(config, progress)
    report("templates", templates)
    inbox = config.inbox()
    for old in inbox.glob("*.xlsx") if inbox.is_dir() else []:
        old.unlink()  # the demo's own simulated files from an earlier run
    simulated = write_submissions(templates.register, config, inbox, messy=True)
    report("simulated", simulated)
    done = run_consolidation(config, progress)
    report("consolidated", done)
    rendered = make_circular(config, result=done.result.period_result)
    report("circular", rendered)
    return DemoResult(folder, config, templates, simulated, done, rendered)
