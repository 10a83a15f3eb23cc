"""The period's tables (汇总_P.xlsx and 指标明细_P.csv)."""
