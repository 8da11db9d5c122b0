/* The bench as an SVG written by hand: one panel per program, one bar per row. Three axes:
 *
 * - speed-up (the default): each bar is the stage baseline's median over the row's median,
 *   on a linear axis of its own per stage, so a bar twice as long IS twice as fast (a log
 *   axis makes 10x look like 30%); the baseline's bar ends on the 1x line.
 * - linear time: the median in ms, with a p90 whisker, linear, one axis per stage (sizes
 *   read true; fast rows of a stage whose baseline is slow shrink to a sliver, truly).
 * - log time: one axis for the whole panel, because the rows span four orders of
 *   magnitude (a 0.5 ms snapshot check next to a 700 ms clang build).
 *
 * Rows that produced no time (crashes, failures, skipped) keep their line with the reason
 * in words. Every bar carries data-program / data-row / data-median-ms / data-speedup
 * attributes and a <title> with the exact figures, so tests and browsers can read what a
 * person sees. */
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
	int log;		/* log10 scale between decades lo and hi; else linear 0..hi */
	double lo, hi;
	double step;		/* linear: the distance between ticks */
	int speedup;		/* values are speed-ups (ticks "2×"), not milliseconds */
};

static double xpos(const struct axis *a, double v)
{
	if (!a->log)
		return X0 + (v < 0 ? 0 : v > a->hi ? a->hi : v) / a->hi * (X1 - X0);
	if (v < a->lo)
		v = a->lo;
	return X0 + (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) * (X1 - X0);
}

/* A linear axis from 0 that holds vmax, with 3-8 ticks at 1, 2 or 5 times a power of ten. */
static void linear_axis(struct axis *a, double vmax, int speedup)
{
	memset(a, 0, sizeof(*a));
	a->speedup = speedup;
	if (vmax <= 0)
		vmax = 1;
	double raw = vmax / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
	a->step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
	a->hi = ceil(vmax / a->step * 1.0001) * a->step;
	if (a->hi < vmax * 1.02)	/* room for the bar's end to show */
		a->hi += a->step;
}

static int has_time(const struct vms_bench_row *r)
{
	return r->state == VMS_BENCH_OK && r->n && r->median > 0;
}

static void linear_grid(struct vms_buf *b, const struct axis *a, double y_top, double y_bot)
{
	for (int k = 0; k * a->step <= a->hi * 1.0001; k++) {
		double v = k * a->step, x = xpos(a, v);
		char t[32];
		if (a->speedup)
			snprintf(t, sizeof(t), "%g×", v);
		else
			tick_label(t, sizeof(t), v);
		vms_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				  "stroke=\"%s\" stroke-width=\"1\"/>\n",
			       x, y_top, x, y_bot, k ? "#e2e2e2" : "#b8b8b8");
		vms_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				  "font-size=\"10\" fill=\"#666\">%s</text>\n", x, y_top - 3, t);
	}
	if (a->speedup && a->hi >= 1) {
		/* the baseline: a bar that ends left of this line is slower than it */
		double x = xpos(a, 1);
		vms_buf_printf(b, "<line class=\"one\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				  "y2=\"%.1f\" stroke=\"#c62828\" stroke-width=\"1\" "
				  "stroke-dasharray=\"4,3\"/>\n", x, y_top, x, y_bot);
	}
}

/* tick labels above a panel, and the grid lines through it */
static void axis_grid(struct vms_buf *b, const struct axis *a, double y_top, double y_bot,
		      int labels_above, int labels_below)
{
	if (!a->log) {
		linear_grid(b, a, y_top, y_bot);
		return;
	}
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

/* What a row's bar measures on this axis; 0 when it has none (no time, or no baseline to
 * divide by). */
static double bar_value(const struct vms_bench_row *r, enum vms_bench_axis mode)
{
	if (!has_time(r))
		return 0;
	if (mode == VMS_BENCH_AXIS_SPEEDUP)
		return r->ratio > 0 ? 1 / r->ratio : 0;
	return r->median;
}

static int in_group(const struct vms_bench_row *r, const char *program, const char *stage)
{
	return !strcmp(r->program, program) && (!stage || !strcmp(r->stage, stage));
}

/* The axis of one panel (stage NULL: log time over the whole report) or one stage group. */
static void make_axis(const struct vms_bench_report *rep, enum vms_bench_axis mode,
		      const char *program, const char *stage, struct axis *ax)
{
	double vmin = 0, vmax = 0;
	for (size_t i = 0; i < rep->n; i++) {
		const struct vms_bench_row *r = &rep->rows[i];
		if ((program && !in_group(r, program, stage)) || !bar_value(r, mode))
			continue;
		double lo = bar_value(r, mode), hi = lo;
		if (mode != VMS_BENCH_AXIS_SPEEDUP && r->p90 > hi)
			hi = r->p90;
		if (vmin == 0 || lo < vmin)
			vmin = lo;
		if (hi > vmax)
			vmax = hi;
	}
	if (mode != VMS_BENCH_AXIS_LOG) {
		linear_axis(ax, mode == VMS_BENCH_AXIS_SPEEDUP && vmax < 1 ? 1 : vmax,
			    mode == VMS_BENCH_AXIS_SPEEDUP);
		return;
	}
	memset(ax, 0, sizeof(*ax));
	ax->log = 1;
	ax->lo = 0.1, ax->hi = 1000;
	if (vmin > 0) {
		ax->lo = pow(10, floor(log10(vmin)));
		/* a bar as short as the axis start would be invisible */
		if (vmin < 2 * ax->lo)
			ax->lo /= 10;
		ax->hi = pow(10, ceil(log10(vmax)));
		if (ax->hi <= ax->lo * 1.0001)
			ax->hi = ax->lo * 10;
	}
}

/* Row label, then its bar (or its state in words). */
static void draw_row(struct vms_buf *b, const struct vms_bench_row *r, const struct axis *ax,
		     enum vms_bench_axis mode, double cy)
{
	vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
			  "font-size=\"12\" fill=\"#222\"%s>",
		       LABEL_X, cy + 4, r->baseline ? " font-weight=\"bold\"" : "");
	xml_text(b, r->label);
	vms_buf_puts(b, "</text>\n");
	double v = bar_value(r, mode);
	if (v > 0) {
		double xm = xpos(ax, v);
		double xp = mode == VMS_BENCH_AXIS_SPEEDUP ? xm : xpos(ax, r->p90);
		vms_buf_printf(b, "<rect class=\"bar\" data-program=\"");
		xml_text(b, r->program);
		vms_buf_printf(b, "\" data-row=\"%s\" data-median-ms=\"%.4f\" data-speedup=\"%.4g\" "
				  "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s>",
			       r->id, r->median, r->ratio > 0 ? 1 / r->ratio : 0, X0,
			       cy - BAR_H / 2, xm - X0 > 1 ? xm - X0 : 1, BAR_H,
			       stage_color(r->stage),
			       r->baseline ? " stroke=\"#111\" stroke-width=\"2\"" : "");
		char m[32], p[32];
		bench_fmt_ms(m, sizeof(m), r->median);
		bench_fmt_ms(p, sizeof(p), r->p90);
		vms_buf_puts(b, "<title>");
		xml_text(b, r->label);
		vms_buf_printf(b, ": median %s ms, p90 %s ms, %zu runs</title></rect>\n", m, p, r->n);
		if (xp > xm + 0.5)
			vms_buf_printf(b, "<line class=\"p90\" x1=\"%.1f\" y1=\"%.1f\" "
					  "x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
					  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
					  "y2=\"%.1f\" stroke=\"#333\"/>\n",
				       xm, cy, xp, cy, xp, cy - 4, xp, cy + 4);
		vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">",
			       (xp > xm ? xp : xm) + 5, cy + 4);
		bar_caption(b, r);
		if (r->same_object == 0)
			vms_buf_puts(b, "<tspan fill=\"#c62828\"> · object differs</tspan>");
		vms_buf_puts(b, "</text>\n");
		return;
	}
	int crash = r->state == VMS_BENCH_CRASHES;
	vms_buf_printf(b, "<text class=\"state\" data-program=\"");
	xml_text(b, r->program);
	vms_buf_printf(b, "\" data-row=\"%s\" data-state=\"%s\" x=\"%.1f\" y=\"%.1f\" "
			  "font-size=\"11\" font-style=\"italic\" fill=\"%s\">",
		       r->id, vms_bench_state_name(r->state), X0 + 6, cy + 4,
		       crash ? "#c62828" : "#777");
	vms_buf_printf(b, "%s%s", crash ? "✗ " : "",
		       r->state != VMS_BENCH_OK ? vms_bench_state_name(r->state)
		       : has_time(r) ? "no baseline to compare with" : "no runs");
	if (r->note) {
		/* keep it on the plot: a long note is cut */
		size_t len = strlen(r->note), max = 110;
		while (max < len && max && ((unsigned char)r->note[max] & 0xc0) == 0x80)
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

void vms_bench_svg(const struct vms_bench_report *rep, const char *command,
		   enum vms_bench_axis mode, struct vms_buf *b)
{
	int per_stage = mode != VMS_BENCH_AXIS_LOG;
	struct axis whole;
	make_axis(rep, mode, NULL, NULL, &whole);
	/* per stage, a line of tick labels above its rows */
	double stage_head = per_stage ? 16 : 0, stage_gap = 8;

	/* height: header, then per program a heading, tick labels and its rows */
	double header_h = 118;
	double panel_head = 30, panel_gap = 40;
	double h = header_h;
	for (size_t pi = 0; pi < rep->n_programs; pi++) {
		h += panel_head;
		const char *prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (!in_group(r, rep->programs[pi], NULL))
				continue;
			if (!prev || strcmp(prev, r->stage))
				h += (prev ? stage_gap : 0) + stage_head;
			prev = r->stage;
			h += ROW_H;
		}
		h += panel_gap;
	}
	h += 20;

	static const char *const titles[] = {
		[VMS_BENCH_AXIS_SPEEDUP] = "vmslim bench: speed-up against each stage's baseline",
		[VMS_BENCH_AXIS_LOG] = "vmslim bench: time per pipeline",
		[VMS_BENCH_AXIS_LINEAR] = "vmslim bench: time per pipeline",
	};
	static const char *const scales[] = {
		[VMS_BENCH_AXIS_SPEEDUP] = "bar: baseline median / row median, linear, "
					    "per stage; longer is faster",
		[VMS_BENCH_AXIS_LOG] = "whisker: p90; log scale; lower is better",
		[VMS_BENCH_AXIS_LINEAR] = "whisker: p90; linear, one axis per stage; shorter is "
					   "faster",
	};
	vms_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
			  "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"12\" "
			  "data-axis=\"%s\">\n",
		       W, h, W, h, FONT, vms_bench_axis_name(mode));
	vms_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, h);
	vms_buf_printf(b, "<text x=\"16\" y=\"28\" font-size=\"18\" font-weight=\"bold\" "
			  "fill=\"#222\">%s</text>\n", titles[mode]);
	vms_buf_printf(b, "<text x=\"16\" y=\"48\" font-size=\"12\" fill=\"#444\">median of %d runs "
			  "(after %d warm-up, interleaved); %s</text>\n",
		       rep->runs, rep->warmup, scales[mode]);
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
		const char *prog = rep->programs[pi];
		vms_buf_printf(b, "<g class=\"panel\" data-program=\"");
		xml_text(b, prog);
		vms_buf_puts(b, "\">\n");
		vms_buf_printf(b, "<text x=\"16\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\" "
				  "fill=\"#222\">", y + 4);
		xml_text(b, prog);
		vms_buf_puts(b, "</text>\n");
		double top = y + panel_head, bot = top;
		const char *prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (!in_group(r, prog, NULL))
				continue;
			if (!prev || strcmp(prev, r->stage))
				bot += (prev ? stage_gap : 0) + stage_head;
			prev = r->stage;
			bot += ROW_H;
		}
		vms_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				  "fill=\"#fafafa\" stroke=\"#ddd\"/>\n",
			       X0, top - 2, X1 - X0, bot - top + 4);
		if (!per_stage)
			axis_grid(b, &whole, top - 2, bot + 2, 1, pi + 1 == rep->n_programs);

		double ry = top;
		struct axis ax = whole;
		prev = NULL;
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (!in_group(r, prog, NULL))
				continue;
			if (!prev || strcmp(prev, r->stage)) {
				if (prev) {
					ry += stage_gap;
					vms_buf_printf(b, "<line x1=\"16\" y1=\"%.1f\" x2=\"%.1f\" "
							  "y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
						       ry - 5, X1, ry - 5);
				}
				ry += stage_head;
				if (per_stage) {
					/* this stage's own axis, from its first row to its last */
					double end = ry;
					for (size_t k = i; k < rep->n && in_group(&rep->rows[k], prog,
										    r->stage); k++)
						end += ROW_H;
					make_axis(rep, mode, prog, r->stage, &ax);
					axis_grid(b, &ax, ry - 2, end, 1, 0);
				}
				vms_buf_printf(b, "<text x=\"16\" y=\"%.1f\" font-size=\"11\" "
						  "fill=\"%s\" font-weight=\"bold\">%s</text>\n",
					       ry + 13, stage_color(r->stage), r->stage);
			}
			prev = r->stage;
			draw_row(b, r, &ax, mode, ry + ROW_H / 2);
			ry += ROW_H;
		}
		vms_buf_puts(b, "</g>\n");
		y = bot + panel_gap;
	}
	static const char *const captions[] = {
		[VMS_BENCH_AXIS_SPEEDUP] = "times faster than the stage's baseline (linear; the "
					    "dashed line is 1×)",
		[VMS_BENCH_AXIS_LOG] = "wall-clock time per run, milliseconds (log scale)",
		[VMS_BENCH_AXIS_LINEAR] = "wall-clock time per run, milliseconds (linear)",
	};
	vms_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
			  "fill=\"#444\">%s</text>\n", (X0 + X1) / 2, h - 12, captions[mode]);
	vms_buf_puts(b, "</svg>\n");
}

const char *vms_bench_axis_name(enum vms_bench_axis a)
{
	switch (a) {
	case VMS_BENCH_AXIS_SPEEDUP: return "speedup";
	case VMS_BENCH_AXIS_LOG: return "log";
	case VMS_BENCH_AXIS_LINEAR: return "linear";
	}
	return "?";
}

int vms_bench_axis_parse(const char *s, enum vms_bench_axis *out)
{
	static const enum vms_bench_axis all[] = { VMS_BENCH_AXIS_SPEEDUP, VMS_BENCH_AXIS_LOG,
						   VMS_BENCH_AXIS_LINEAR };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, vms_bench_axis_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -1;
}
