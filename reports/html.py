"""index.html: one self-contained page (inline CSS, base64 PNGs, no network) for the report."""

import base64
from html import escape

from reports.aggregate import Row, Table
from reports.captions import card_lines, kl_lines, method_lines, noise_lines, table_title
from reports.columns import (
    DAGGER,
    LEAD,
    Column,
    cell_parts,
    columns,
    header,
    parts_cell,
    row_name,
    test_cell,
    test_columns,
    test_header,
)
from reports.dots import DOTTED, seed_dots
from reports.matched import matched_line
from reports.plots import Plot, row_colors
from reports.samples import PromptView
from reports.tuning import HEADERS, WINNER, Tuning, budget_note, left_out_line, trial_cells

# Nothing may be fetched: images are data: URIs, style and script are inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
  margin:0;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:36px 0 10px;padding-top:12px;
  border-top:2px solid #d8dce3}h3{font-size:15px;margin:22px 0 8px}
.method{color:#4a5263;font-size:13px;margin:0 0 14px;padding-left:18px}
.warn{background:#fff4d6;border:1px solid #e8c35a;border-radius:6px;padding:8px 12px;
  margin:6px 0;font-size:13px}
.scroll{overflow-x:auto;background:#fff;border:1px solid #d8dce3;border-radius:8px}
table{border-collapse:collapse;font-size:12.5px;white-space:nowrap}
th,td{padding:5px 8px;border-bottom:1px solid #eceef2;text-align:right}
th{background:#eef1f6;font-weight:600;position:sticky;top:0}
td.label,th.label{text-align:left}tr:last-child td{border-bottom:none}
.board .pin{position:sticky;left:0;z-index:1;background:#fff}
.board .pin.rank{width:48px;min-width:48px;max-width:48px;box-sizing:border-box}
.board .pin.algo{left:48px;box-shadow:inset -1px 0 0 #c9ced8}
.board th.pin{z-index:2;background:#eef1f6}.board tr.best .pin{background:#f1f8f1}
tr.best td{background:#f1f8f1}.ci{display:block;color:#7a8294;font-size:11px}
td.few{background:#fff8e6}.sig{color:#1a7f37;font-weight:600}.ns{color:#8a93a5}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.notes{font-size:12px;color:#6a4b00;margin:6px 0 0;padding-left:18px}
.line{font-size:13px;color:#4a5263;margin:6px 0}tr.anchor td{font-style:italic}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:8px}
figure img{width:100%;height:auto;display:block}figcaption{font-size:12px;color:#5b6475}
.prompt{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:10px 12px;
  margin:10px 0}.prompt summary{cursor:pointer;font-size:12px;color:#4a5263;margin-top:4px}
.context{font-size:12px;color:#4a5263;white-space:pre-wrap;margin:6px 0}
.gens{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:8px;margin-top:8px}
.gen{border:1px solid #e1e4ea;border-radius:6px;padding:8px;background:#fbfcfd}
.gen .head{font-size:12px;font-weight:600;margin-bottom:4px;display:flex;
  justify-content:space-between;gap:8px}.gen .head>span:last-child{white-space:nowrap}
.gen .text{white-space:pre-wrap;font-size:13px}
"""
# The row labels (rank, algo) stay in view while a wide leaderboard scrolls sideways.
HEAD_CLASSES = {"rank": "pin rank", "algo": "label pin algo", "parts": "label"}
# Marks the page once every image has decoded, so a headless browser test can read the result.
CHECK = """
window.reportErrors=[];
window.addEventListener('error',function(e){window.reportErrors.push(String(e.message))});
window.addEventListener('load',function(){
  var imgs=Array.prototype.slice.call(document.images);
  var bad=imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0)});
  document.body.dataset.images=imgs.length;document.body.dataset.broken=bad.length;
  document.body.dataset.errors=window.reportErrors.length;document.body.dataset.ready='yes';
});
"""


def page(tables: list[Table], warnings: list[str], plots: dict[str, list[Plot]],
         views: dict[str, list[PromptView]], tuning: Tuning | None = None) -> str:  # fmt: skip
    """The whole HTML document."""
    tuning = tuning or Tuning((), 0)
    body = ["<h1>rl-lm-bench leaderboard</h1>", '<ul class="method">']
    body += [f"<li>{escape(line)}</li>" for line in method_lines(tables[0].ci)] + ["</ul>"]
    body += [f'<div class="warn">⚠ {escape(text)}</div>' for text in warnings]
    left_out = left_out_line(tuning)
    body += [f'<p class="line">{escape(left_out)}.</p>'] if left_out else []
    for table in tables:
        body.append(section(table, plots[table.task], views[table.task]))
    body.append(tuning_section(tuning))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>rl-lm-bench report</title><style>{STYLE}</style></head>\n"
        f"<body><main>{''.join(body)}</main><script>{CHECK}</script></body></html>\n"
    )


def section(table: Table, plots: list[Plot], views: list[PromptView]) -> str:
    """One task: the leaderboard, its notes, its figures and the samples view."""
    colors = row_colors(table.rows)
    parts = [f"<section><h2>{escape(table_title(table))}</h2>"]
    parts += [f'<p class="line">{escape(line)}</p>' for line in kl_lines(table) + card_lines(table)]
    parts.append(leaderboard(table, colors))
    lines = [matched_line(table.matched), *noise_lines(table)]
    parts += [f'<p class="line">{escape(line.strip())}</p>' for line in lines]
    notes = [f"<li><b>{escape(row_name(r))}</b>: {escape('; '.join(r.flags))}</li>"
             for r in table.rows if r.flags]  # fmt: skip
    if notes:
        parts.append(f'<ul class="notes">{"".join(notes)}</ul>')
    parts.append('<h3>Curves, frontier and diversity</h3><div class="plots">')
    parts += [figure(plot) for plot in plots]
    parts.append("</div>")
    if views:
        parts.append(f"<h3>Test completions side by side ({len(views)} prompts)</h3>")
        parts += [prompt_view(view, colors) for view in views]
    return "".join(parts) + "</section>"


def tuning_section(tuning: Tuning) -> str:
    """Per selection.json and task: the budget note and one line per trial, the winner marked."""
    if not tuning.selections:
        return ""
    parts = ['<section id="tuning"><h2>Tuning</h2>']
    heads = "".join(f'<th class="label">{escape(h)}</th>' for h in (*HEADERS, WINNER))
    for selection in tuning.selections:
        parts.append(f'<p class="line">From {escape(selection.file)}.</p>')
        for task, entries in selection.tasks.items():
            parts.append(f"<h3>{escape(task)}</h3>")
            parts.append(f'<p class="line">{escape(budget_note(selection, task))}</p>')
            parts.append(f'<div class="scroll"><table><thead><tr>{heads}</tr></thead><tbody>')
            for entry in entries:
                for trial in entry.trials:
                    cells = trial_cells(entry, trial)
                    css = ' class="best"' if cells[-1] else ""
                    tds = "".join(f'<td class="label">{escape(cell)}</td>' for cell in cells)
                    parts.append(f"<tr{css}>{tds}</tr>")
            parts.append("</tbody></table></div>")
    return "".join(parts) + "</section>"


def leaderboard(table: Table, colors: dict[str, str]) -> str:
    """The HTML leaderboard: CIs under each mean, † cells shaded, significance coloured."""
    cols, tested = columns(table), test_columns(table)
    heads = [*LEAD, *[header(c) for c in cols]]
    heads[len(LEAD) + 1 : len(LEAD) + 1] = [test_header(against) for against in tested]
    html = ['<div class="scroll"><table class="board"><thead><tr>']
    html += [f'<th class="{HEAD_CLASSES.get(h, "")}">{escape(h)}</th>' for h in heads]
    html.append("</tr></thead><tbody>")
    for row in table.rows:
        cells = [metric_cell(row, c, table) for c in cols]
        cells[1:1] = [significance_cell(row, against) for against in tested]
        swatch = f'<span class="swatch" style="background:{colors[row.label]}"></span>'
        seeds = ",".join(str(run.seed) for run in row.runs)
        marks = (("best", row.p_vs_best is None), ("anchor", row.anchor))
        css = " ".join(name for name, on in marks if on)
        html.append(f'<tr class="{css}"><td class="pin rank">{row.rank}</td>')
        html.append(f'<td class="label pin algo">{swatch}{escape(row_name(row))}</td>')
        html.append(f'<td class="label">{escape(parts_cell(row))}</td><td>{seeds}</td>')
        html += cells + ["</tr>"]
    return "".join(html) + "</tbody></table></div>"


def metric_cell(row: Row, column: Column, table: Table) -> str:
    """A <td> with the mean, its CI below it (with the per-seed values as dots beside the
    interval in the DOTTED columns), shaded with † when under 3 seeds."""
    interval = row.metrics.get(column.key)
    mean, ci, few = cell_parts(interval, column)
    title = f' title="rests on {interval.n} seeds"' if few and interval else ""
    dagger = DAGGER if few else ""
    ci_html = f'<span class="ci">{escape(ci)}</span>' if ci else ""
    if column.key in DOTTED and interval is not None:
        ci_html += seed_dots(interval, table, column.key)
    return f'<td class="{"few" if few else ""}"{title}>{escape(mean)}{dagger}{ci_html}</td>'


def significance_cell(row: Row, against: str) -> str:
    """`best`, a green `p=… *`, a grey `p=… n.s.` or `—` (not tested)."""
    test = row.test(against)
    css = "" if test is None else ("sig" if test.significant else "ns")
    return f'<td class="{css}">{escape(test_cell(row, against))}</td>'


def figure(plot: Plot) -> str:
    """A <figure> with the PNG embedded as a data: URI."""
    data = base64.b64encode(plot.png).decode("ascii")
    return (
        f'<figure><img alt="{escape(plot.title)}" data-plot="{plot.name}" '
        f'src="data:image/png;base64,{data}"><figcaption>{escape(plot.caption)}</figcaption></figure>'
    )


def prompt_view(view: PromptView, colors: dict[str, str]) -> str:
    """One prompt: its text and references (folded), then one card per completion."""
    refs = "".join(f"<div class='context'>↳ {escape(ref)}</div>" for ref in view.references)
    cards = []
    for gen in view.generations:
        shade = colors.get(gen.label, "#7f7f7f")
        reward = "n/a" if gen.reward is None else f"{gen.reward:.3f}"
        text = escape(gen.text) if gen.text.strip() else "<i>(empty completion)</i>"
        cards.append(
            f'<div class="gen"><div class="head"><span><span class="swatch" '
            f'style="background:{shade}"></span>{escape(gen.label)} · seed {gen.seed}</span>'
            f'<span>reward {reward}</span></div><div class="text">{text}</div></div>'
        )
    return (
        f'<div class="prompt"><b>prompt {escape(view.id)}</b><details><summary>prompt text and'
        f' references</summary><div class="context">{escape(view.prompt)}</div>'
        f"<div class='context'><b>references</b></div>{refs}</details>"
        f'<div class="gens">{"".join(cards)}</div></div>'
    )
