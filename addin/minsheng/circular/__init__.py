"""The progress circular (进展情况通报): its words, its annex, the chart, and the office's Word template as data."""
