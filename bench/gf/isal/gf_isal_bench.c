/*
 * gf_isal_bench: times Intel ISA-L's GF(2^8) region functions, the reference that bench/gf.ts
 * puts next to our TypeScript and WebAssembly kernels. Built and run by bench/gf.ts:
 *
 *   gcc -O2 -o bench/out/gf_isal_bench bench/isal/gf_isal_bench.c -lisal
 *   gf_isal_bench [--runs N] [--run-ms MS] [--kernels mulAdd,mul,xor,rs] [--sizes 65536,...]
 *                 [--check FILE --check-size BYTES]
 *
 * It prints one JSON object on stdout: the RS(11+5) Cauchy coefficient rows and the
 * multiplier it used (so the TypeScript side computes the very same thing), and per kernel and
 * size the GB/s of every timed run and the share of its wall time the process had a CPU, for
 * two functions: the one ISA-L dispatches to on this CPU (AVX-512 or AVX2 where present) and the
 * library's own 128-bit kernel for the same job (the AVX version, SSE without AVX). WebAssembly
 * SIMD has 128-bit vectors only, so the second shows what hand-written 128-bit code reaches;
 * the two are timed in turn, run by run, on the same buffers. With --check it also writes, for
 * one buffer size L, the bytes ISA-L computed: data (k*L), parity (m*L), mulAdd (L), mul (L),
 * xor (L), in that order, so bench/gf.ts can compare our output byte for byte before it times
 * anything; it fails when the 128-bit functions compute other bytes than the dispatched ones.
 *
 * Only ISA-L is timed in this process. ISA-L's AVX kernels leave the upper halves of the
 * vector registers dirty, which slows later SSE code 3-4x; since the library dispatches some
 * functions to SSE and others to AVX, the upper state is cleared after every call.
 *
 * Row -> ISA-L function (128-bit version):
 *   mulAdd  dst ^= c*src   gf_vect_mad(len, vec=1, vec_i=0, gf_vect_mul_init(c), src, dst)
 *                          (gf_vect_mad_avx / _sse)
 *   mul     dst  = c*src   gf_vect_mul(len, gf_vect_mul_init(c), src, dst) (gf_vect_mul_avx / _sse)
 *   xor     dst ^= src     xor_gen(3, len, {dst, src, dst}) (none: xor_gen_avx is 256-bit and
 *                          xor_gen_sse writes with non-temporal stores, made for buffers beyond
 *                          the caches: 4x slower than the others here, no ceiling)
 *   rs      RS(11+5)       ec_init_tables(11, 5, cauchy rows) + ec_encode_data(len, 11, 5, ...)
 *                          (ec_encode_data_avx / _sse)
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <isa-l/erasure_code.h>
#include <isa-l/gf_vect_mul.h>
#include <isa-l/raid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K = 11, M = 5, REGIONS = K + M, MAX_SIZES = 16 };

/* Regions are placed this many bytes apart (beyond their length) so that no two of them start
 * at the same offset within a 4 KiB page: 4 KiB aliasing would slow every kernel down. */
enum { STAGGER = 320, ALIGN = 64 };

/* The multiplier of the mulAdd and mul rows: any element other than 0 and 1 exercises the
 * full table path. bench/gf.ts reads it from the JSON output. */
static const unsigned char COEFFICIENT = 0xc3;

struct bench {
	size_t size;
	unsigned char *region[REGIONS];
	unsigned char mul_table[32];
	unsigned char rs_tables[32 * K * M];
};

static int has_avx;

__attribute__((target("avx"))) static void clear_upper_avx(void)
{
	_mm256_zeroupper();
}

static inline void clear_upper(void)
{
	if (has_avx)
		clear_upper_avx();
}

static void op_mul_add(struct bench *b)
{
	gf_vect_mad((int)b->size, 1, 0, b->mul_table, b->region[0], b->region[1]);
	clear_upper();
}

static void op_mul_add_avx(struct bench *b)
{
	gf_vect_mad_avx((int)b->size, 1, 0, b->mul_table, b->region[0], b->region[1]);
	clear_upper();
}

static void op_mul_add_sse(struct bench *b)
{
	gf_vect_mad_sse((int)b->size, 1, 0, b->mul_table, b->region[0], b->region[1]);
}

static void op_mul(struct bench *b)
{
	gf_vect_mul((int)b->size, b->mul_table, b->region[0], b->region[1]);
	clear_upper();
}

static void op_mul_avx(struct bench *b)
{
	gf_vect_mul_avx((int)b->size, b->mul_table, b->region[0], b->region[1]);
	clear_upper();
}

static void op_mul_sse(struct bench *b)
{
	gf_vect_mul_sse((int)b->size, b->mul_table, b->region[0], b->region[1]);
}

static void op_xor(struct bench *b)
{
	void *array[3] = { b->region[1], b->region[0], b->region[1] };
	xor_gen(3, (int)b->size, array);
	clear_upper();
}

static void op_rs(struct bench *b)
{
	ec_encode_data((int)b->size, K, M, b->rs_tables, &b->region[0], &b->region[K]);
	clear_upper();
}

static void op_rs_avx(struct bench *b)
{
	ec_encode_data_avx((int)b->size, K, M, b->rs_tables, &b->region[0], &b->region[K]);
	clear_upper();
}

static void op_rs_sse(struct bench *b)
{
	ec_encode_data_sse((int)b->size, K, M, b->rs_tables, &b->region[0], &b->region[K]);
}

/* One 128-bit implementation of a row: its name and function (NULL: none to compare with). */
struct variant {
	const char *function;
	void (*op)(struct bench *);
};

struct kernel {
	const char *name;
	const char *function;
	int data_regions; /* bytes of data per call = data_regions * size */
	void (*op)(struct bench *);
	struct variant avx; /* the library's 128-bit kernel on a CPU with AVX */
	struct variant sse; /* and without */
};

static const struct kernel KERNELS[] = {
	{ "mulAdd", "gf_vect_mad", 1, op_mul_add, { "gf_vect_mad_avx", op_mul_add_avx },
	  { "gf_vect_mad_sse", op_mul_add_sse } },
	{ "mul", "gf_vect_mul", 1, op_mul, { "gf_vect_mul_avx", op_mul_avx },
	  { "gf_vect_mul_sse", op_mul_sse } },
	{ "xor", "xor_gen", 1, op_xor, { NULL, NULL }, { NULL, NULL } },
	{ "rs", "ec_encode_data", K, op_rs, { "ec_encode_data_avx", op_rs_avx },
	  { "ec_encode_data_sse", op_rs_sse } },
};
enum { KERNEL_COUNT = sizeof KERNELS / sizeof KERNELS[0] };

static double clock_seconds(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

static double time_calls(void (*op)(struct bench *), struct bench *b, long calls)
{
	double start = now_seconds();
	for (long i = 0; i < calls; i++)
		op(b);
	return now_seconds() - start;
}

/* Fills with xorshift64 output: deterministic, so runs are comparable. */
static void fill_random(unsigned char *p, size_t n, unsigned long long *state)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long long x = *state;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*state = x;
		p[i] = (unsigned char)(x >> 32);
	}
}

static unsigned char *bench_init(struct bench *b, size_t size, const unsigned char *cauchy)
{
	size_t stride = size + STAGGER;
	unsigned char *block = aligned_alloc(ALIGN, stride * REGIONS);
	if (block == NULL)
		return NULL;
	unsigned long long state = 0x9e3779b97f4a7c15ull;
	fill_random(block, stride * REGIONS, &state);
	b->size = size;
	for (int i = 0; i < REGIONS; i++)
		b->region[i] = block + (size_t)i * stride;
	gf_vect_mul_init(COEFFICIENT, b->mul_table);
	ec_init_tables(K, M, (unsigned char *)&cauchy[K * K], b->rs_tables);
	return block;
}

/* Warms a function up (caches, page faults, frequency) and returns how many calls fill one run. */
static long calls_per_run(void (*op)(struct bench *), struct bench *b, double run_seconds)
{
	long calls = 1;
	double elapsed = time_calls(op, b, calls);
	while (elapsed < 0.05) {
		calls *= 2;
		elapsed = time_calls(op, b, calls);
	}
	return (long)(calls * run_seconds / elapsed) + 1;
}

static void print_list(const char *name, const double *values, int n, const char *format)
{
	printf(", \"%s\": [", name);
	for (int r = 0; r < n; r++) {
		printf("%s", r == 0 ? "" : ", ");
		printf(format, values[r]);
	}
	printf("]");
}

/* Times one run of calls; *share gets the share of its wall time this process was on a CPU
 * (below 1 when something else ran on the pinned core). Returns GB/s. */
static double timed_run(void (*op)(struct bench *), struct bench *b, long calls, double bytes,
			double *share)
{
	double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	double t = time_calls(op, b, calls);
	*share = (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) / t;
	return bytes / t / 1e9;
}

static void measure(const struct kernel *k, struct bench *b, int runs, double run_seconds,
		    int first)
{
	const struct variant *v128 = has_avx ? &k->avx : &k->sse;
	long per_run = calls_per_run(k->op, b, run_seconds);
	long per_run128 = v128->op == NULL ? 0 : calls_per_run(v128->op, b, run_seconds);
	double bytes = (double)k->data_regions * (double)b->size;

	/* The two functions in turn, run by run, so that both see the same moments of the machine. */
	double gbps[1000], share[1000], gbps128[1000], share128[1000];
	for (int r = 0; r < runs; r++) {
		gbps[r] = timed_run(k->op, b, per_run, bytes * per_run, &share[r]);
		if (v128->op != NULL)
			gbps128[r] =
				timed_run(v128->op, b, per_run128, bytes * per_run128, &share128[r]);
	}
	printf("%s\n    {\"kernel\": \"%s\", \"function\": \"%s\", \"size\": %zu, "
	       "\"bytesPerCall\": %zu, \"callsPerRun\": %ld",
	       first ? "" : ",", k->name, k->function, b->size, k->data_regions * b->size, per_run);
	print_list("gbps", gbps, runs, "%.4f");
	print_list("cpuShare", share, runs, "%.3f");
	if (v128->op == NULL) {
		printf(", \"function128\": null");
	} else {
		printf(", \"function128\": \"%s\"", v128->function);
		print_list("gbps128", gbps128, runs, "%.4f");
		print_list("cpuShare128", share128, runs, "%.3f");
	}
	printf("}");
	fflush(stdout);
}

/* Runs every row's 128-bit function on a copy of the regions the dispatched one worked on and
 * compares the bytes: the 128-bit column is only a ceiling if it computes the same thing. */
static int check_variants(struct bench *b)
{
	const size_t size = b->size;
	unsigned char *saved = malloc(size * REGIONS), *want = malloc(size * REGIONS);
	if (saved == NULL || want == NULL)
		return 1;
	int ok = 1;
	for (int k = 0; k < KERNEL_COUNT && ok; k++) {
		const struct variant *v128 = has_avx ? &KERNELS[k].avx : &KERNELS[k].sse;
		if (v128->op == NULL)
			continue;
		for (int i = 0; i < REGIONS; i++)
			memcpy(saved + i * size, b->region[i], size);
		KERNELS[k].op(b);
		for (int i = 0; i < REGIONS; i++) {
			memcpy(want + i * size, b->region[i], size);
			memcpy(b->region[i], saved + i * size, size);
		}
		v128->op(b);
		for (int i = 0; i < REGIONS; i++) {
			if (memcmp(want + i * size, b->region[i], size) != 0) {
				fprintf(stderr, "gf_isal_bench: %s computes other bytes than %s (region %d)\n",
					v128->function, KERNELS[k].function, i);
				ok = 0;
			}
			memcpy(b->region[i], saved + i * size, size);
		}
	}
	free(saved);
	free(want);
	return ok ? 0 : 1;
}

static int write_check(const char *path, size_t size, const unsigned char *cauchy)
{
	struct bench b;
	unsigned char *block = bench_init(&b, size, cauchy);
	if (block == NULL || check_variants(&b) != 0)
		return 1;
	unsigned char *mul_add = aligned_alloc(ALIGN, size), *mul = aligned_alloc(ALIGN, size),
		      *xor = aligned_alloc(ALIGN, size);
	if (mul_add == NULL || mul == NULL || xor == NULL)
		return 1;

	/* Each result is computed from the untouched data regions 0 and 1. */
	memcpy(b.region[K], b.region[1], size);
	gf_vect_mad((int)size, 1, 0, b.mul_table, b.region[0], b.region[K]);
	clear_upper();
	memcpy(mul_add, b.region[K], size);

	gf_vect_mul((int)size, b.mul_table, b.region[0], mul);
	clear_upper();

	memcpy(xor, b.region[1], size);
	void *array[3] = { xor, b.region[0], xor };
	xor_gen(3, (int)size, array);
	clear_upper();

	ec_encode_data((int)size, K, M, b.rs_tables, &b.region[0], &b.region[K]);
	clear_upper();

	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	int ok = 1;
	for (int i = 0; i < REGIONS; i++)
		ok &= fwrite(b.region[i], 1, size, f) == size;
	ok &= fwrite(mul_add, 1, size, f) == size;
	ok &= fwrite(mul, 1, size, f) == size;
	ok &= fwrite(xor, 1, size, f) == size;
	ok &= fclose(f) == 0;
	free(mul_add);
	free(mul);
	free(xor);
	free(block);
	if (!ok)
		fprintf(stderr, "gf_isal_bench: cannot write %s\n", path);
	return ok ? 0 : 1;
}

static int parse_sizes(const char *list, size_t *sizes)
{
	int n = 0;
	const char *p = list;
	while (*p != '\0' && n < MAX_SIZES) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || v < 64 || v % 64 != 0 || v > (1ull << 30))
			return -1;
		sizes[n++] = (size_t)v;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -1;
	}
	return n;
}

static int usage(void)
{
	fprintf(stderr, "usage: gf_isal_bench [--runs N] [--run-ms MS] [--kernels mulAdd,mul,xor,rs]"
			" [--sizes BYTES,...] [--check FILE --check-size BYTES]\n"
			"sizes must be multiples of 64 (gf_vect_mul needs multiples of 32)\n");
	return 2;
}

int main(int argc, char **argv)
{
	int runs = 7;
	double run_ms = 200;
	const char *kernels = "mulAdd,mul,xor,rs";
	size_t sizes[MAX_SIZES];
	int size_count = 0;
	const char *check_path = NULL;
	size_t check_size = 65536;

	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (value == NULL)
			return usage();
		if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(value);
		else if (strcmp(argv[i], "--run-ms") == 0)
			run_ms = atof(value);
		else if (strcmp(argv[i], "--kernels") == 0)
			kernels = value;
		else if (strcmp(argv[i], "--sizes") == 0)
			size_count = parse_sizes(value, sizes);
		else if (strcmp(argv[i], "--check") == 0)
			check_path = value;
		else if (strcmp(argv[i], "--check-size") == 0) {
			size_t one[1];
			if (parse_sizes(value, one) != 1)
				return usage();
			check_size = one[0];
		} else
			return usage();
		i++;
	}
	if (runs < 1 || runs > 1000 || run_ms <= 0 || size_count < 0)
		return usage();

	__builtin_cpu_init();
	has_avx = __builtin_cpu_supports("avx");

	/* gf_gen_cauchy1_matrix fills an (k+m) x k matrix: the identity, then the m parity rows. */
	unsigned char cauchy[(K + M) * K];
	gf_gen_cauchy1_matrix(cauchy, K + M, K);

	if (check_path != NULL && write_check(check_path, check_size, cauchy) != 0)
		return 1;

	printf("{\n  \"k\": %d, \"m\": %d, \"coefficient\": %d,\n  \"matrix\": [", K, M,
	       COEFFICIENT);
	for (int r = 0; r < M; r++) {
		printf("%s[", r == 0 ? "" : ", ");
		for (int c = 0; c < K; c++)
			printf("%s%d", c == 0 ? "" : ", ", cauchy[(K + r) * K + c]);
		printf("]");
	}
	printf("],\n  \"regionStagger\": %d,\n  \"results\": [", STAGGER);

	int first = 1;
	for (int s = 0; s < size_count; s++) {
		struct bench b;
		unsigned char *block = bench_init(&b, sizes[s], cauchy);
		if (block == NULL) {
			fprintf(stderr, "gf_isal_bench: out of memory\n");
			return 1;
		}
		for (int k = 0; k < KERNEL_COUNT; k++) {
			/* Match whole names in the comma-separated list. */
			size_t n = strlen(KERNELS[k].name);
			const char *p = kernels;
			int wanted = 0;
			while ((p = strstr(p, KERNELS[k].name)) != NULL) {
				if ((p == kernels || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
					wanted = 1;
				p += n;
			}
			if (!wanted)
				continue;
			measure(&KERNELS[k], &b, runs, run_ms / 1000, first);
			first = 0;
		}
		free(block);
	}
	printf("\n  ]\n}\n");
	return 0;
}
