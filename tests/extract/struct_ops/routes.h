/* A hand-written header with each route by which clang's BTF emits a struct complete or
 * as a FWD, for the struct_ops test. Every struct is named after what should become of
 * it in the slim header for routes.c: fwd_* opaque, full_* complete. */
#ifndef __ROUTES_H__
#define __ROUTES_H__

struct fwd_member;
struct fwd_twice;
struct fwd_typedef_member;
struct full_param;
struct full_const_param;
struct full_array;
struct full_typedef_fn;
struct full_typedef_arg;
struct full_behind_fn;

struct fwd_member { int a; };
struct fwd_twice { int a; };
struct fwd_typedef_member { int a; };
struct full_param { int a; };
struct full_const_param { int a; };
struct full_array { int a; };
struct full_typedef_fn { int a; };
struct full_typedef_arg { int a; };
struct full_behind_fn { int a; };
struct full_never { int a; };

typedef struct fwd_typedef_member *fwd_typedef_member_p;
typedef struct full_typedef_arg *full_typedef_arg_p;
typedef void (*typedef_fn_t)(struct full_typedef_fn *);
typedef void (*behind_fn_t)(struct full_behind_fn *);

struct holder {
	struct fwd_member *member;			/* a member's pointer: FWD */
	struct fwd_twice **twice;			/* still a member's: FWD */
	fwd_typedef_member_p typedef_member;		/* through a typedef: FWD */
	int (*fn)(struct full_param *, const struct full_const_param *); /* prototype */
	struct full_array *array[2];			/* array element */
	typedef_fn_t typedef_fn;			/* a prototype behind a typedef */
	behind_fn_t *behind_fn;				/* ... and behind a pointer */
};

#endif /* __ROUTES_H__ */
