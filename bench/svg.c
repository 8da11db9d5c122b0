/* The latency bars as an SVG written by hand: one panel per program, one bar per row
 * (its median), a whisker to its p90, on a logarithmic time axis, because the rows span
 * four orders of magnitude (a 0.5 ms snapshot check next to a 700 ms clang build) and a
 * linear axis would flatten every fast row to nothing. Rows that produced no time
 * (crashes, failures, skipped) keep their line with the reason in words. Every bar
 * carries data-program / data-row attributes and a <title> with the exact figures, so
 * tests and browsers can read what a person sees. */
#include "bench/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 1180.0
#define LABEL_X 420.0		/* labels end here, right-aligned */
#define X0 430.0		/* plot area */
#define X1 (W - 210.0)
#define ROW_H 19.0
#define BAR_H 12.0
#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

static const char *stage_color(const char *stage)
{
	if (!strcmp(stage, "extract"))
		return "#8e6bbf";
	if (!strcmp(stage, "check"))
		return "#3b7dd8";
	return "#e0892f";
}

static void xml_text(struct vms_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': vms_buf_puts(b, "&amp;"); break;
		case '<': vms_buf_puts(b, "&lt;"); break;
		case '>': vms_buf_puts(b, "&gt;"); break;
		case '"': vms_buf_puts(b, "&quot;"); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
				vms_buf_append(b, s, 1);
		}
	}
}

static void tick_label(char *out, size_t n, double v)
{
	if (v >= 1000)
		snprintf(out, n, "%g s", v / 1000);
	else
		snprintf(out, n, "%g ms", v);
}

struct axis {
	double lo, hi;		/* decades */
};

static double xpos(const struct axis *a, double v)
{
	if (v < a->lo)
		v = a->lo;
	return X0 + (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) * (X1 - X0);
}

static int has_time(const struct vms_bench_row *r)
{
	return r->state == VMS_BENCH_OK && r->n && r->median > 0;
}

/* tick labels above a panel, and the grid lines through it */
static void axis_grid(struct vms_buf *b, const struct axis *a, double y_top, double y_bot,
		      int labels_above, int labels_below)
{
	for (double dec = a->lo; dec <= a->hi * 1.0001; dec *= 10) {
		for (int m = 1; m <= 9; m++) {
			double v = dec * m;
			if (v > a->hi * 1.0001)
				break;
			double x = xpos(a, v);
			if (m == 1)
				vms_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
						  "stroke=\"#b8b8b8\" stroke-width=\"1\"/>\n",
					       x, y_top, x, y_bot);
			else if (m == 2 || m == 5)
				vms_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
						  "stroke=\"#e2e2e2\" stroke-width=\"1\" "
						  "stroke-dasharray=\"3,3\"/>\n",
					       x, y_top, x, y_bot);
			if (m == 1 || ((m == 2 || m == 5) && log10(a->hi / a->lo) <= 4)) {
				char t[32];
				tick_label(t, sizeof(t), v);
				int major = m == 1;
				if (labels_above)
					vms_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
							  "text-anchor=\"middle\" font-size=\"%d\" "
							  "fill=\"%s\">%s</text>\n",
						       x, y_top - 4, major ? 11 : 9,
						       major ? "#444" : "#999", t);
				if (labels_below)
					vms_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
							  "text-anchor=\"middle\" font-size=\"%d\" "
							  "fill=\"%s\">%s</text>\n",
						       x, y_bot + 13, major ? 11 : 9,
						       major ? "#444" : "#999", t);
			}
		}
	}
}

static void bar_caption(struct vms_buf *b, const struct vms_bench_row *r)
{
	char m[32];
	bench_fmt_ms(m, sizeof(m), r->median);
	vms_buf_printf(b, "%s ms", m);
	if (r->baseline)
		vms_buf_puts(b, " · baseline");
	else if (r->ratio > 0 && r->ratio < 1)
		vms_buf_printf(b, 1 / r->ratio >= 10 ? " · %.0f× faster" : " · %.1f× faster",
			       1 / r->ratio);
	else if (r->ratio >= 1)
		vms_buf_printf(b, " · %.1f× slower", r->ratio);
}

void vms_bench_svg(const struct vms_bench_report *rep, const char *command, struct vms_buf *b)
{
	/* the axis spans whole decades around every median and p90 */
	double vmin = 0, vmax = 0;
	for (size_t i = 0; i < rep->n; i++) {
		const struct vms_bench_row *r = &rep->rows[i];
		if (!has_time(r))
			continue;
		double lo = r->median, hi = r->p90 > r->median ? r->p90 : r->median;
		if (vmin == 0 || lo < vmin)
			vmin = lo;
		if (hi > vmax)
			vmax = hi;
	}
	struct axis ax = { 0.1, 1000 };
	if (vmin > 0) {
		ax.lo = pow(10, floor(log10(vmin)));
		/* a bar as short as the axis start would be invisible */
		if (vmin < 2 * ax.lo)
			ax.lo /= 10;
		ax.hi = pow(10, ceil(log10(vmax)));
		if (ax.hi <= ax.lo * 1.0001)
			ax.hi = ax.lo * 10;
	}

	/* height: header, then per program a heading, tick labels and its rows */
	double header_h = 118;
	double panel_head = 30, panel_gap = 40;
	double h = header_h;
	for (size_t pi = 0; pi < rep->n_programs; pi++) {
		h += panel_head;
		const char *prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (strcmp(r->program, rep->programs[pi]))
				continue;
			if (prev && strcmp(prev, r->stage))
				h += 8;
			prev = r->stage;
			h += ROW_H;
		}
		h += panel_gap;
	}
	h += 20;

	vms_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
			  "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"12\">\n",
		       W, h, W, h, FONT);
	vms_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, h);
	vms_buf_puts(b, "<text x=\"16\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">"
			"vmslim bench: time per pipeline</text>\n");
	vms_buf_puts(b, "<text x=\"16\" y=\"48\" font-size=\"12\" fill=\"#444\">bar: median of ");
	vms_buf_printf(b, "%d runs (after %d warm-up, interleaved); whisker: p90; log scale; "
			  "lower is better</text>\n", rep->runs, rep->warmup);
	vms_buf_puts(b, "<text x=\"16\" y=\"66\" font-size=\"11\" fill=\"#666\">");
	xml_text(b, rep->machine);
	vms_buf_puts(b, " · ");
	xml_text(b, rep->clang_version);
	vms_buf_puts(b, " · ");
	xml_text(b, rep->tcc_version);
	vms_buf_puts(b, "</text>\n<text x=\"16\" y=\"82\" font-size=\"11\" fill=\"#666\">full header: ");
	char hb[32];
	bench_fmt_bytes(hb, sizeof(hb), rep->header_bytes);
	vms_buf_printf(b, "vmlinux.h, %s, from ", hb);
	xml_text(b, rep->header_origin);
	vms_buf_puts(b, "</text>\n");
	if (command) {
		/* the full command is in the markdown and the JSON; here it must fit the width */
		vms_buf_puts(b, "<text x=\"16\" y=\"98\" font-size=\"11\" fill=\"#666\">$ ");
		size_t max = 170;
		if (strlen(command) > max) {
			while (max && ((unsigned char)command[max] & 0xc0) == 0x80)
				max--; /* not inside a UTF-8 sequence */
			char *cut = vms_xstrndup(command, max);
			xml_text(b, cut);
			vms_buf_puts(b, "…");
			free(cut);
		} else {
			xml_text(b, command);
		}
		vms_buf_puts(b, "</text>\n");
	}
	/* legend */
	static const char *const stages[] = { "extract", "check", "build" };
	double lx = W - 330;
	for (size_t k = 0; k < 3; k++) {
		vms_buf_printf(b, "<rect x=\"%.0f\" y=\"18\" width=\"12\" height=\"12\" fill=\"%s\"/>"
				  "<text x=\"%.0f\" y=\"28\" font-size=\"12\" fill=\"#333\">%s</text>\n",
			       lx, stage_color(stages[k]), lx + 16, stages[k]);
		lx += 80;
	}
	vms_buf_printf(b, "<rect x=\"%.0f\" y=\"36\" width=\"12\" height=\"12\" fill=\"#ccc\" "
			  "stroke=\"#111\" stroke-width=\"2\"/><text x=\"%.0f\" y=\"46\" "
			  "font-size=\"12\" fill=\"#333\">baseline of its stage</text>\n",
		       W - 330, W - 314);

	double y = header_h;
	for (size_t pi = 0; pi < rep->n_programs; pi++) {
		vms_buf_printf(b, "<g class=\"panel\" data-program=\"");
		xml_text(b, rep->programs[pi]);
		vms_buf_puts(b, "\">\n");
		vms_buf_printf(b, "<text x=\"16\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\" "
				  "fill=\"#222\">", y + 4);
		xml_text(b, rep->programs[pi]);
		vms_buf_puts(b, "</text>\n");
		double top = y + panel_head, bot = top;
		const char *prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (strcmp(r->program, rep->programs[pi]))
				continue;
			if (prev && strcmp(prev, r->stage))
				bot += 8;
			prev = r->stage;
			bot += ROW_H;
		}
		vms_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				  "fill=\"#fafafa\" stroke=\"#ddd\"/>\n",
			       X0, top - 2, X1 - X0, bot - top + 4);
		axis_grid(b, &ax, top - 2, bot + 2, 1, pi + 1 == rep->n_programs);

		double ry = top;
		prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (strcmp(r->program, rep->programs[pi]))
				continue;
			if (prev && strcmp(prev, r->stage)) {
				ry += 8;
				vms_buf_printf(b, "<line x1=\"16\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
						  "stroke=\"#e6e6e6\"/>\n", ry - 5, X1, ry - 5);
			}
			if (!prev || strcmp(prev, r->stage))
				vms_buf_printf(b, "<text x=\"16\" y=\"%.1f\" font-size=\"11\" "
						  "fill=\"%s\" font-weight=\"bold\">%s</text>\n",
					       ry + 13, stage_color(r->stage), r->stage);
			prev = r->stage;
			double cy = ry + ROW_H / 2;
			vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
					  "font-size=\"12\" fill=\"#222\"%s>",
				       LABEL_X, cy + 4, r->baseline ? " font-weight=\"bold\"" : "");
			xml_text(b, r->label);
			vms_buf_puts(b, "</text>\n");
			if (has_time(r)) {
				double xm = xpos(&ax, r->median), xp = xpos(&ax, r->p90);
				vms_buf_printf(b, "<rect class=\"bar\" data-program=\"");
				xml_text(b, r->program);
				vms_buf_printf(b, "\" data-row=\"%s\" data-median-ms=\"%.4f\" x=\"%.1f\" "
						  "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s>",
					       r->id, r->median, X0, cy - BAR_H / 2,
					       xm - X0 > 1 ? xm - X0 : 1, BAR_H, stage_color(r->stage),
					       r->baseline ? " stroke=\"#111\" stroke-width=\"2\"" : "");
				char m[32], p[32];
				bench_fmt_ms(m, sizeof(m), r->median);
				bench_fmt_ms(p, sizeof(p), r->p90);
				vms_buf_puts(b, "<title>");
				xml_text(b, r->label);
				vms_buf_printf(b, ": median %s ms, p90 %s ms, %zu runs</title></rect>\n",
					       m, p, r->n);
				if (xp > xm + 0.5)
					vms_buf_printf(b, "<line class=\"p90\" x1=\"%.1f\" y1=\"%.1f\" "
							  "x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
							  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
							  "y2=\"%.1f\" stroke=\"#333\"/>\n",
						       xm, cy, xp, cy, xp, cy - 4, xp, cy + 4);
				vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
						  "fill=\"#333\">", (xp > xm ? xp : xm) + 5, cy + 4);
				bar_caption(b, r);
				if (r->same_object == 0)
					vms_buf_puts(b, "<tspan fill=\"#c62828\"> · object differs</tspan>");
				vms_buf_puts(b, "</text>\n");
			} else {
				int crash = r->state == VMS_BENCH_CRASHES;
				vms_buf_printf(b, "<text class=\"state\" data-program=\"");
				xml_text(b, r->program);
				vms_buf_printf(b, "\" data-row=\"%s\" data-state=\"%s\" x=\"%.1f\" "
						  "y=\"%.1f\" font-size=\"11\" font-style=\"italic\" "
						  "fill=\"%s\">",
					       r->id, vms_bench_state_name(r->state), X0 + 6, cy + 4,
					       crash ? "#c62828" : "#777");
				vms_buf_printf(b, "%s%s", crash ? "✗ " : "",
					       r->state == VMS_BENCH_OK ? "no runs"
									: vms_bench_state_name(r->state));
				if (r->note) {
					/* keep it on the plot: a long note is cut */
					size_t len = strlen(r->note), max = 110;
					while (max < len && max &&
					       ((unsigned char)r->note[max] & 0xc0) == 0x80)
						max--; /* not inside a UTF-8 sequence */
					char *n = vms_xstrndup(r->note, len < max ? len : max);
					vms_buf_puts(b, ": ");
					xml_text(b, n);
					if (len > max)
						vms_buf_puts(b, "…");
					free(n);
				}
				vms_buf_puts(b, "</text>\n");
			}
			ry += ROW_H;
		}
		vms_buf_puts(b, "</g>\n");
		y = bot + panel_gap;
	}
	vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
			  "fill=\"#444\">wall-clock time per run, milliseconds (log scale)</text>\n",
		       (X0 + X1) / 2, h - 12);
	vms_buf_puts(b, "</svg>\n");
}
