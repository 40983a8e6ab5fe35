"""Charts: one definition (bot.charts.spec), drawn by matplotlib as PNG for Slack and SVG for the page."""
from bot.charts.render import render_png, render_svg
from bot.charts.spec import Chart, Series

__all__ = ["Chart", "Series", "render_png", "render_svg"]
