/* The report as people read it (markdown) and as programs read it (JSON). */
#include "bench/internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a table cell: pipes escaped, newlines flattened */
static void md_cell(struct vms_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			vms_buf_puts(b, "\\|");
		else if (*s == '\n')
			vms_buf_puts(b, " ");
		else
			vms_buf_append(b, s, 1);
	}
}

static void md_ratio(struct vms_buf *b, const struct vms_bench_row *r)
{
	if (r->baseline && r->state == VMS_BENCH_OK) {
		vms_buf_puts(b, "1.00 (baseline)");
	} else if (r->ratio <= 0) {
		vms_buf_puts(b, "");
	} else if (r->ratio < 1) {
		double x = 1 / r->ratio;
		vms_buf_printf(b, r->ratio < 0.01 ? "%.4f" : r->ratio < 0.1 ? "%.3f" : "%.2f", r->ratio);
		vms_buf_printf(b, x >= 10 ? " (%.0f× faster)" : " (%.1f× faster)", x);
	} else {
		vms_buf_printf(b, "%.2f (%.1f× slower)", r->ratio, r->ratio);
	}
}

static void md_output(struct vms_buf *b, const struct vms_bench_row *r)
{
	char x[32], y[32];
	if (r->out_bytes < 0)
		return;
	bench_fmt_bytes(x, sizeof(x), r->out_bytes);
	if (!strcmp(r->stage, "extract") && r->ref_bytes > 0) {
		bench_fmt_bytes(y, sizeof(y), r->ref_bytes);
		vms_buf_printf(b, "slim header %s = 1/%.0f of %s", x,
			       (double)r->ref_bytes / (double)(r->out_bytes ? r->out_bytes : 1), y);
	} else {
		vms_buf_printf(b, "%s", x);
	}
}

void vms_bench_markdown(const struct vms_bench_report *rep, const char *command,
			struct vms_buf *b)
{
	char hb[32];
	bench_fmt_bytes(hb, sizeof(hb), rep->header_bytes);
	vms_buf_puts(b, "## vmslim bench\n\n");
	if (command)
		vms_buf_printf(b, "- command: `%s`\n", command);
	vms_buf_printf(b, "- machine: %s\n", rep->machine ? rep->machine : "?");
	vms_buf_printf(b, "- compilers: %s; %s\n", rep->clang_version ? rep->clang_version : "?",
		       rep->tcc_version ? rep->tcc_version : "?");
	vms_buf_printf(b, "- full header: vmlinux.h, %s, from %s\n", hb,
		       rep->header_origin ? rep->header_origin : "?");
	vms_buf_printf(b,
		       "- %d measured rounds after %d warm-up round%s, every row once per round "
		       "(interleaved); %.0f s in all\n",
		       rep->runs, rep->warmup, rep->warmup == 1 ? "" : "s", rep->total_s);
	vms_buf_puts(b, "- times in milliseconds, wall clock as the user waits; ratio = median / "
			"the median of the stage's baseline row for the same program; \"same "
			"object\": same instructions, relocations and CO-RE records as the plain "
			"full-header build (`vmslim objdiff`)\n");

	for (size_t pi = 0; pi < rep->n_programs; pi++) {
		vms_buf_printf(b, "\n### %s\n\n", rep->programs[pi]);
		vms_buf_puts(b, "| stage | pipeline | median ms | p90 ms | vs baseline | output | "
				"same object | notes |\n"
				"|---|---|--:|--:|--:|--:|:-:|---|\n");
		for (size_t i = 0; i < rep->n; i++) {
			const struct vms_bench_row *r = &rep->rows[i];
			if (strcmp(r->program, rep->programs[pi]))
				continue;
			char m[32], p[32];
			vms_buf_printf(b, "| %s | ", r->stage);
			if (r->baseline)
				vms_buf_puts(b, "**");
			md_cell(b, r->label);
			if (r->baseline)
				vms_buf_puts(b, "**");
			if (r->state == VMS_BENCH_OK && r->n) {
				bench_fmt_ms(m, sizeof(m), r->median);
				bench_fmt_ms(p, sizeof(p), r->p90);
				vms_buf_printf(b, " | %s | %s | ", m, p);
			} else {
				vms_buf_printf(b, " | %s | | ", r->state == VMS_BENCH_OK
								? "no runs" : vms_bench_state_name(r->state));
			}
			md_ratio(b, r);
			vms_buf_puts(b, " | ");
			md_output(b, r);
			vms_buf_puts(b, " | ");
			if (!strcmp(r->stage, "build") && r->state == VMS_BENCH_OK)
				vms_buf_puts(b, r->baseline ? "reference"
					     : r->same_object == 1 ? "yes"
					     : r->same_object == 0 ? "**no**" : "?");
			vms_buf_puts(b, " | ");
			md_cell(b, r->note);
			vms_buf_puts(b, " |\n");
		}
	}

	/* what each row runs, once, as the command a user would type for that pipeline (the
	 * JSON also names the project function the bench times for it) */
	vms_buf_puts(b, "\n#### What each row runs\n\n"
			"P is the program; full/ and slim/ hold the full and the slim vmlinux.h.\n\n"
			"| pipeline | command |\n|---|---|\n");
	for (size_t j = 0; rep->n_programs && j < rep->n; j++) {
		const struct vms_bench_row *r = &rep->rows[j];
		if (strcmp(r->program, rep->programs[0]))
			continue;
		vms_buf_puts(b, "| ");
		md_cell(b, r->label);
		vms_buf_puts(b, " | `");
		md_cell(b, r->command);
		vms_buf_puts(b, "` |\n");
	}
}

/* ---- JSON ----------------------------------------------------------------------- */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* json-c prints doubles with 17 digits; a microsecond (or 6 digits of a ratio) is all the
 * precision a wall-clock figure has */
static json_object *jnum_fmt(double v, const char *fmt)
{
	char buf[64];
	snprintf(buf, sizeof(buf), fmt, v);
	if (strchr(buf, '.') && !strchr(buf, 'e')) {
		size_t n = strlen(buf);
		while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
			buf[--n] = 0;
	}
	return json_object_new_double_s(v, buf);
}

static json_object *jnum(double v)
{
	return jnum_fmt(v, "%.3f");
}

void vms_bench_json(const struct vms_bench_report *rep, const char *command, struct vms_buf *b)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "tool", json_object_new_string("vmslim bench"));
	json_object_object_add(root, "command", jstr(command));
	json_object_object_add(root, "machine", jstr(rep->machine));
	json_object_object_add(root, "clang", jstr(rep->clang_version));
	json_object_object_add(root, "tcc", jstr(rep->tcc_version));
	json_object *h = json_object_new_object();
	json_object_object_add(h, "origin", jstr(rep->header_origin));
	json_object_object_add(h, "bytes", json_object_new_int64(rep->header_bytes));
	json_object_object_add(root, "header", h);
	json_object_object_add(root, "runs", json_object_new_int(rep->runs));
	json_object_object_add(root, "warmup", json_object_new_int(rep->warmup));
	json_object_object_add(root, "total_s", jnum(rep->total_s));
	json_object *progs = json_object_new_array();
	for (size_t i = 0; i < rep->n_programs; i++)
		json_object_array_add(progs, json_object_new_string(rep->programs[i]));
	json_object_object_add(root, "programs", progs);

	json_object *rows = json_object_new_array();
	for (size_t i = 0; i < rep->n; i++) {
		const struct vms_bench_row *r = &rep->rows[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "program", jstr(r->program));
		json_object_object_add(o, "id", jstr(r->id));
		json_object_object_add(o, "stage", jstr(r->stage));
		json_object_object_add(o, "label", jstr(r->label));
		json_object_object_add(o, "calls", jstr(r->calls));
		json_object_object_add(o, "command", jstr(r->command));
		json_object_object_add(o, "baseline", json_object_new_boolean(r->baseline));
		json_object_object_add(o, "state", jstr(vms_bench_state_name(r->state)));
		json_object_object_add(o, "note", jstr(r->note));
		int have = r->state == VMS_BENCH_OK && r->n;
		json_object_object_add(o, "median_ms", have ? jnum(r->median) : NULL);
		json_object_object_add(o, "p90_ms", have ? jnum(r->p90) : NULL);
		json_object_object_add(o, "min_ms", have ? jnum(r->min) : NULL);
		json_object_object_add(o, "max_ms", have ? jnum(r->max) : NULL);
		json_object_object_add(o, "ratio", have && r->ratio > 0 ? jnum_fmt(r->ratio, "%.6g")
									: NULL);
		json_object *s = json_object_new_array();
		for (size_t k = 0; k < r->n; k++)
			json_object_array_add(s, jnum(r->ms[k]));
		json_object_object_add(o, "samples_ms", s);
		json_object_object_add(o, "out_bytes",
				       r->out_bytes >= 0 ? json_object_new_int64(r->out_bytes) : NULL);
		json_object_object_add(o, "ref_bytes",
				       r->ref_bytes >= 0 ? json_object_new_int64(r->ref_bytes) : NULL);
		json_object_object_add(o, "same_object",
				       r->same_object < 0 ? NULL : json_object_new_boolean(r->same_object));
		json_object_array_add(rows, o);
	}
	json_object_object_add(root, "rows", rows);
	vms_buf_puts(b, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	vms_buf_puts(b, "\n");
	json_object_put(root);
}
