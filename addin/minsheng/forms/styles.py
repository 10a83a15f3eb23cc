"""How a department form looks (填报模板的格式): fonts, borders, the header's blue, locked cells' grey,
and the pale yellow tint of an input not yet filled."""

from __future__ import annotations

import xlsxwriter

PENDING_TINT = "#FFF2CC"  # an input not yet filled (a conditional format: it goes when the cell is filled)


class FormStyles:
    """The handful of cell formats a template uses, made once per workbook: locked cells grey or
    plain, inputs unlocked, and ``pending`` the tint an input keeps while it is empty."""

    def __init__(self, book: xlsxwriter.Workbook):
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "border": 1}
        self.title = book.add_format({"font_name": "宋体", "font_size": 16, "bold": True,
                                      "align": "center", "valign": "vcenter"})
        self.info = book.add_format({"font_name": "宋体", "font_size": 11, "valign": "vcenter"})
        self.header = book.add_format({**base, "bold": True, "align": "center", "text_wrap": True,
                                       "bg_color": "#D9E1F2"})
        self.cell = book.add_format({**base, "text_wrap": True})
        self.center = book.add_format({**base, "align": "center"})
        self.number = book.add_format({**base, "num_format": "General", "align": "center"})
        self.percent = book.add_format({**base, "num_format": "0.0%", "align": "center",
                                        "font_color": "#595959"})
        self.blocked = book.add_format({**base, "bg_color": "#F2F2F2"})
        self.input_number = book.add_format({**base, "locked": False, "num_format": "General"})
        self.input_text = book.add_format({**base, "locked": False, "text_wrap": True,
                                           "num_format": "@"})
        self.input_date = book.add_format({**base, "locked": False, "num_format": "yyyy-mm-dd",
                                           "align": "left"})
        self.label = book.add_format({**base, "bold": True, "align": "center"})
        self.pending = book.add_format({"bg_color": PENDING_TINT})
        self.guide_title = book.add_format({"font_name": "宋体", "font_size": 16, "bold": True})
        self.guide = book.add_format({"font_name": "宋体", "font_size": 12, "text_wrap": True,
                                      "valign": "top"})
        self.guide_head = book.add_format({"font_name": "宋体", "font_size": 12, "bold": True})
