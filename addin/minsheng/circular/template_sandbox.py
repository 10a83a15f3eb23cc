"""The Jinja sandbox office-edited templates are rendered in (模板沙箱): a name is a key of the
plain data the program hands over, and nothing else.

Jinja's own sandbox still lets a template call a string's methods, print objects and reach the
default globals; this one refuses any attribute but a mapping's keys (and a loop's counters), every
call but the template's own macros, all globals, filters outside a list of text filters, and bounds
what ``*``, ``**``, ``%``, ``+`` and the filters may make. ``{{ }}`` prints data only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

from docxtpl import InlineImage, Listing, RichText
from jinja2 import Environment, Undefined, UndefinedError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_REPEAT = 10_000  # longest text or list ``*`` may make; largest count or width a filter takes
MAX_TEXT = 1_000_000  # longest text or list ``+`` may make
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d+))?")  # width and precision of a % conversion

# Filters that only turn plain values into other plain values. Not ``safe`` (a department's
# text would become Word markup), nor ``indent`` (its text argument is made markup), nor
# ``attr``/``map``/``format``/``pprint`` and the like.
FILTERS = frozenset({
    "abs", "batch", "capitalize", "center", "count", "d", "default", "e", "escape", "first", "float",
    "int", "join", "last", "length", "list", "lower", "max", "min", "replace", "reverse",
    "round", "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique",
    "upper", "wordcount"})
_LOOP_FIELDS = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                          "depth", "depth0", "previtem", "nextitem"})


class TemplateRefused(SecurityError):
    """What a template may not do; ``needle`` is the text its tag is found by."""

    def __init__(self, message: str, needle: str):
        super().__init__(message)
        self.reason, self.needle = message, needle


class MissingData(UndefinedError):
    """A tag reads a name or key the data do not have: ``written`` as the tag has it
    (``annex_total.count``, or ``.nme`` when only the key is known)."""

    def __init__(self, written: str):
        super().__init__(written)
        self.written = written


_NUMBERS = (int, float, Decimal)
_DATA = (str, *_NUMBERS, bool, type(None), Undefined)
_PICTURES = (InlineImage, RichText, Listing)  # docxtpl's own, printed as Word markup


def _printable(value, depth: int = 0):
    """``finalize``: what ``{{ }}`` may print is data (also inside lists and mappings); an object
    (``{{ [loop] }}``, a macro, a picture inside a list) is refused."""
    if isinstance(value, _DATA) or (depth == 0 and isinstance(value, _PICTURES)):
        return value
    if isinstance(value, (list, tuple)) and depth < 8:
        for item in value:
            _printable(item, depth + 1)
        return value
    if isinstance(value, dict) and depth < 8:
        for key, item in value.items():
            _printable(key, depth + 1)
            _printable(item, depth + 1)
        return value
    raise TemplateRefused("模板只能输出数据，不能输出程序对象", "")


def _bounded(name: str, f: Callable) -> Callable:
    """A filter whose counts and widths (``center(1500000000)``, ``batch``) stay reasonable, and
    whose text of a value is only ever the text of data."""
    @functools.wraps(f)  # keeps Jinja's pass_environment marks
    def bounded(*args, **kwargs):
        values = [a for a in args if not isinstance(a, (Environment, EvalContext, Context))]
        if name in ("string", "e", "escape", "join", "list", "first", "last", "sort", "unique", "reverse"):
            _printable(values[0] if values else None)
        for number in (*values[1:], *kwargs.values()):
            if type(number) is int and abs(number) > MAX_REPEAT:
                raise TemplateRefused(f"过滤器“{name}”的参数 {number} 过大", name)
        result = f(*args, **kwargs)
        # unique, batch, slice and reverse give generators: data is a list (and prints as one).
        return list(result) if isinstance(result, Iterator) else result
    return bounded


class DataEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox: ``a.b`` and ``a['b']`` read key ``b`` of a mapping, an index or slice of a list or
    text, or one of a loop's counters; anything else is refused at once (not printed as empty)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, finalize=_printable)
        self.globals.clear()  # range, lipsum, cycler, joiner, namespace, dict: none of them is data
        self.filters = {name: _bounded(name, f) for name, f in self.filters.items() if name in FILTERS}

    def getattr(self, obj, attribute):
        return self._lookup(obj, attribute, f".{attribute}")

    def getitem(self, obj, argument):
        return self._lookup(obj, argument, f"[{argument!r}]")

    def _lookup(self, obj, key, written: str):
        if isinstance(obj, Undefined):
            raise MissingData(f"{getattr(obj, '_undefined_name', None) or ''}{written}")
        if isinstance(obj, Mapping):
            if key in obj:
                return obj[key]
            raise MissingData(written)
        if isinstance(obj, (list, tuple, str)) and (isinstance(key, slice) or type(key) is int):
            try:
                return obj[key]
            except IndexError:
                return self.undefined(obj=obj, name=str(key))
        if isinstance(obj, LoopContext) and key in _LOOP_FIELDS:
            return getattr(obj, key)
        raise TemplateRefused(f"模板只能取用程序提供的数据项，不能访问“{key}”", str(key))

    def call_binop(self, context, operator: str, left, right):
        if operator == "**" and not (isinstance(left, _NUMBERS) and type(right) is int
                                     and abs(right) <= 64 and abs(left) <= 10 ** 6):
            raise TemplateRefused("模板中的乘方（**）数值过大", "**")
        if operator == "*":
            count, thing = (right, left) if isinstance(left, (str, list, tuple)) else (left, right)
            if isinstance(thing, (str, list, tuple)) and type(count) is int and count * max(len(thing), 1) > MAX_REPEAT:
                raise TemplateRefused("模板中用“*”重复文字或列表的次数过多", "*")
        if operator == "%" and isinstance(left, str):
            _printable(right)
            for width in (w for m in _FORMAT_WIDTH.finditer(left) for w in m.groups() if w):
                if int(width) > MAX_REPEAT:
                    raise TemplateRefused(f"模板中“%”格式的宽度 {width} 过大", "%")
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            if len(left) + len(right) > MAX_TEXT:
                raise TemplateRefused("模板中用“+”拼出的文字或列表过长", "+")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        if isinstance(__obj, Undefined):  # an unknown name called: Jinja says which
            return __obj(*args, **kwargs)
        if not isinstance(__obj, (Macro, LoopContext)):  # a template's own macro, a recursive loop
            raise TemplateRefused("模板不能调用函数或方法", "(")
        return super().call(__context, __obj, *args, **kwargs)
