"""Spreadsheet import for every kind of record (.xlsx and .csv).

readers   file → rows (type by content; calamine for .xlsx; UTF-8 / GB18030 CSV)
headers   find the header band, map Chinese headers and aliases to columns
cells     parse one cell: dates as text, 万元 / 亿元, full-width digits …
spec      what one kind of import looks like; apps register theirs in <app>/imports.py
engine    check every row, then write all (or only the valid rows) in one transaction
report    the findings as .xlsx;  template: the blank workbook with a 说明 sheet
services  import jobs (upload, inline or background run, progress, staleness)
"""
