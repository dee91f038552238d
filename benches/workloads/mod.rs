//! The overhead workloads, shared by the criterion bench and the peers report.
//!
//! Three shapes, each done by dagwood and by hand:
//! * `independent`: 128 tiny independent tasks and a sum of their results;
//! * `dynamic`: the same shape built at run time with `lazy` handles
//!   (N = 10,000 tasks, summed in a tree), timed including the build;
//! * `chain`: 100 tiny tasks each feeding the next.
//!
//! Generated once by a script (the `let` lines are repetitive on purpose: a
//! static graph is written out, not looped); edit the numbers here and in the
//! README together.
#![allow(dead_code)]

use std::hint::black_box;

use dagwood::prelude::*;
use rayon::prelude::*;

/// Tasks in the static `independent` graph (plus one sum).
pub const INDEPENDENT: usize = 128;
/// Tasks in the static `chain` graph.
pub const CHAIN: usize = 100;
/// Tasks in the `dynamic` graph (plus the sum tree).
pub const DYNAMIC: usize = 10_000;

/// A task that costs a few nanoseconds and cannot be optimised away.
#[delayed]
pub fn tiny(x: u64) -> u64 {
    black_box(x)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
}

/// `tiny(seed + i)` for `i < n`, summed by a plain loop.
pub fn sum_sequential(n: usize, seed: u64) -> u64 {
    (0..n as u64)
        .map(|i| tiny(i + seed))
        .fold(0, u64::wrapping_add)
}

/// The same with rayon's parallel iterator.
pub fn sum_rayon(n: usize, seed: u64) -> u64 {
    (0..n as u64)
        .into_par_iter()
        .map(|i| tiny(i + seed))
        .reduce(|| 0, u64::wrapping_add)
}

/// The same by hand: `threads` scoped std threads, interleaved indices.
pub fn sum_threads(n: usize, seed: u64, threads: usize) -> u64 {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                s.spawn(move || {
                    (t..n as u64)
                        .step_by(threads)
                        .map(|i| tiny(i + seed))
                        .fold(0, u64::wrapping_add)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a summing thread panicked"))
            .fold(0, u64::wrapping_add)
    })
}

pub fn independent_sequential(seed: u64) -> u64 {
    sum_sequential(INDEPENDENT, seed)
}

pub fn independent_rayon(seed: u64) -> u64 {
    sum_rayon(INDEPENDENT, seed)
}

pub fn independent_threads(seed: u64, threads: usize) -> u64 {
    sum_threads(INDEPENDENT, seed, threads)
}

/// The static graph, compiled once; `run(seed)` per iteration.
pub fn independent_graph() -> dagwood::GraphFn<impl Fn(&dagwood::Exec, u64) -> u64 + Sync, (u64,)> {
    graph!(|seed: u64| {
        let t0 = tiny(seed);
        let t1 = tiny(1 + seed);
        let t2 = tiny(2 + seed);
        let t3 = tiny(3 + seed);
        let t4 = tiny(4 + seed);
        let t5 = tiny(5 + seed);
        let t6 = tiny(6 + seed);
        let t7 = tiny(7 + seed);
        let t8 = tiny(8 + seed);
        let t9 = tiny(9 + seed);
        let t10 = tiny(10 + seed);
        let t11 = tiny(11 + seed);
        let t12 = tiny(12 + seed);
        let t13 = tiny(13 + seed);
        let t14 = tiny(14 + seed);
        let t15 = tiny(15 + seed);
        let t16 = tiny(16 + seed);
        let t17 = tiny(17 + seed);
        let t18 = tiny(18 + seed);
        let t19 = tiny(19 + seed);
        let t20 = tiny(20 + seed);
        let t21 = tiny(21 + seed);
        let t22 = tiny(22 + seed);
        let t23 = tiny(23 + seed);
        let t24 = tiny(24 + seed);
        let t25 = tiny(25 + seed);
        let t26 = tiny(26 + seed);
        let t27 = tiny(27 + seed);
        let t28 = tiny(28 + seed);
        let t29 = tiny(29 + seed);
        let t30 = tiny(30 + seed);
        let t31 = tiny(31 + seed);
        let t32 = tiny(32 + seed);
        let t33 = tiny(33 + seed);
        let t34 = tiny(34 + seed);
        let t35 = tiny(35 + seed);
        let t36 = tiny(36 + seed);
        let t37 = tiny(37 + seed);
        let t38 = tiny(38 + seed);
        let t39 = tiny(39 + seed);
        let t40 = tiny(40 + seed);
        let t41 = tiny(41 + seed);
        let t42 = tiny(42 + seed);
        let t43 = tiny(43 + seed);
        let t44 = tiny(44 + seed);
        let t45 = tiny(45 + seed);
        let t46 = tiny(46 + seed);
        let t47 = tiny(47 + seed);
        let t48 = tiny(48 + seed);
        let t49 = tiny(49 + seed);
        let t50 = tiny(50 + seed);
        let t51 = tiny(51 + seed);
        let t52 = tiny(52 + seed);
        let t53 = tiny(53 + seed);
        let t54 = tiny(54 + seed);
        let t55 = tiny(55 + seed);
        let t56 = tiny(56 + seed);
        let t57 = tiny(57 + seed);
        let t58 = tiny(58 + seed);
        let t59 = tiny(59 + seed);
        let t60 = tiny(60 + seed);
        let t61 = tiny(61 + seed);
        let t62 = tiny(62 + seed);
        let t63 = tiny(63 + seed);
        let t64 = tiny(64 + seed);
        let t65 = tiny(65 + seed);
        let t66 = tiny(66 + seed);
        let t67 = tiny(67 + seed);
        let t68 = tiny(68 + seed);
        let t69 = tiny(69 + seed);
        let t70 = tiny(70 + seed);
        let t71 = tiny(71 + seed);
        let t72 = tiny(72 + seed);
        let t73 = tiny(73 + seed);
        let t74 = tiny(74 + seed);
        let t75 = tiny(75 + seed);
        let t76 = tiny(76 + seed);
        let t77 = tiny(77 + seed);
        let t78 = tiny(78 + seed);
        let t79 = tiny(79 + seed);
        let t80 = tiny(80 + seed);
        let t81 = tiny(81 + seed);
        let t82 = tiny(82 + seed);
        let t83 = tiny(83 + seed);
        let t84 = tiny(84 + seed);
        let t85 = tiny(85 + seed);
        let t86 = tiny(86 + seed);
        let t87 = tiny(87 + seed);
        let t88 = tiny(88 + seed);
        let t89 = tiny(89 + seed);
        let t90 = tiny(90 + seed);
        let t91 = tiny(91 + seed);
        let t92 = tiny(92 + seed);
        let t93 = tiny(93 + seed);
        let t94 = tiny(94 + seed);
        let t95 = tiny(95 + seed);
        let t96 = tiny(96 + seed);
        let t97 = tiny(97 + seed);
        let t98 = tiny(98 + seed);
        let t99 = tiny(99 + seed);
        let t100 = tiny(100 + seed);
        let t101 = tiny(101 + seed);
        let t102 = tiny(102 + seed);
        let t103 = tiny(103 + seed);
        let t104 = tiny(104 + seed);
        let t105 = tiny(105 + seed);
        let t106 = tiny(106 + seed);
        let t107 = tiny(107 + seed);
        let t108 = tiny(108 + seed);
        let t109 = tiny(109 + seed);
        let t110 = tiny(110 + seed);
        let t111 = tiny(111 + seed);
        let t112 = tiny(112 + seed);
        let t113 = tiny(113 + seed);
        let t114 = tiny(114 + seed);
        let t115 = tiny(115 + seed);
        let t116 = tiny(116 + seed);
        let t117 = tiny(117 + seed);
        let t118 = tiny(118 + seed);
        let t119 = tiny(119 + seed);
        let t120 = tiny(120 + seed);
        let t121 = tiny(121 + seed);
        let t122 = tiny(122 + seed);
        let t123 = tiny(123 + seed);
        let t124 = tiny(124 + seed);
        let t125 = tiny(125 + seed);
        let t126 = tiny(126 + seed);
        let t127 = tiny(127 + seed);
        [
            t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18,
            t19, t20, t21, t22, t23, t24, t25, t26, t27, t28, t29, t30, t31, t32, t33, t34, t35,
            t36, t37, t38, t39, t40, t41, t42, t43, t44, t45, t46, t47, t48, t49, t50, t51, t52,
            t53, t54, t55, t56, t57, t58, t59, t60, t61, t62, t63, t64, t65, t66, t67, t68, t69,
            t70, t71, t72, t73, t74, t75, t76, t77, t78, t79, t80, t81, t82, t83, t84, t85, t86,
            t87, t88, t89, t90, t91, t92, t93, t94, t95, t96, t97, t98, t99, t100, t101, t102,
            t103, t104, t105, t106, t107, t108, t109, t110, t111, t112, t113, t114, t115, t116,
            t117, t118, t119, t120, t121, t122, t123, t124, t125, t126, t127,
        ]
        .into_iter()
        .fold(0, u64::wrapping_add)
    })
}

pub fn dynamic_build_and_run(seed: u64, scheduler: &Scheduler) -> u64 {
    let parts: Vec<Delayed<u64>> = (0..DYNAMIC as u64).map(|i| tiny::lazy(i + seed)).collect();
    let total = dagwood::tree_reduce(parts, 64, "add", |v: Vec<u64>| {
        v.into_iter().fold(0, u64::wrapping_add)
    });
    // A failure fails the benchmark loudly: a 0 would be timed as an answer.
    total
        .and_then(|t| t.compute_with(scheduler))
        .expect("the dynamic graph failed")
}

pub fn dynamic_rayon(seed: u64) -> u64 {
    sum_rayon(DYNAMIC, seed)
}

pub fn dynamic_threads(seed: u64, threads: usize) -> u64 {
    sum_threads(DYNAMIC, seed, threads)
}

pub fn dynamic_sequential(seed: u64) -> u64 {
    sum_sequential(DYNAMIC, seed)
}

pub fn chain_loop(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..100 {
        x = tiny(x);
    }
    x
}

/// The static chain, fused by the macro into straight-line code.
pub fn chain_graph() -> dagwood::GraphFn<impl Fn(&dagwood::Exec, u64) -> u64 + Sync, (u64,)> {
    graph!(|c0: u64| {
        let c1 = tiny(c0);
        let c2 = tiny(c1);
        let c3 = tiny(c2);
        let c4 = tiny(c3);
        let c5 = tiny(c4);
        let c6 = tiny(c5);
        let c7 = tiny(c6);
        let c8 = tiny(c7);
        let c9 = tiny(c8);
        let c10 = tiny(c9);
        let c11 = tiny(c10);
        let c12 = tiny(c11);
        let c13 = tiny(c12);
        let c14 = tiny(c13);
        let c15 = tiny(c14);
        let c16 = tiny(c15);
        let c17 = tiny(c16);
        let c18 = tiny(c17);
        let c19 = tiny(c18);
        let c20 = tiny(c19);
        let c21 = tiny(c20);
        let c22 = tiny(c21);
        let c23 = tiny(c22);
        let c24 = tiny(c23);
        let c25 = tiny(c24);
        let c26 = tiny(c25);
        let c27 = tiny(c26);
        let c28 = tiny(c27);
        let c29 = tiny(c28);
        let c30 = tiny(c29);
        let c31 = tiny(c30);
        let c32 = tiny(c31);
        let c33 = tiny(c32);
        let c34 = tiny(c33);
        let c35 = tiny(c34);
        let c36 = tiny(c35);
        let c37 = tiny(c36);
        let c38 = tiny(c37);
        let c39 = tiny(c38);
        let c40 = tiny(c39);
        let c41 = tiny(c40);
        let c42 = tiny(c41);
        let c43 = tiny(c42);
        let c44 = tiny(c43);
        let c45 = tiny(c44);
        let c46 = tiny(c45);
        let c47 = tiny(c46);
        let c48 = tiny(c47);
        let c49 = tiny(c48);
        let c50 = tiny(c49);
        let c51 = tiny(c50);
        let c52 = tiny(c51);
        let c53 = tiny(c52);
        let c54 = tiny(c53);
        let c55 = tiny(c54);
        let c56 = tiny(c55);
        let c57 = tiny(c56);
        let c58 = tiny(c57);
        let c59 = tiny(c58);
        let c60 = tiny(c59);
        let c61 = tiny(c60);
        let c62 = tiny(c61);
        let c63 = tiny(c62);
        let c64 = tiny(c63);
        let c65 = tiny(c64);
        let c66 = tiny(c65);
        let c67 = tiny(c66);
        let c68 = tiny(c67);
        let c69 = tiny(c68);
        let c70 = tiny(c69);
        let c71 = tiny(c70);
        let c72 = tiny(c71);
        let c73 = tiny(c72);
        let c74 = tiny(c73);
        let c75 = tiny(c74);
        let c76 = tiny(c75);
        let c77 = tiny(c76);
        let c78 = tiny(c77);
        let c79 = tiny(c78);
        let c80 = tiny(c79);
        let c81 = tiny(c80);
        let c82 = tiny(c81);
        let c83 = tiny(c82);
        let c84 = tiny(c83);
        let c85 = tiny(c84);
        let c86 = tiny(c85);
        let c87 = tiny(c86);
        let c88 = tiny(c87);
        let c89 = tiny(c88);
        let c90 = tiny(c89);
        let c91 = tiny(c90);
        let c92 = tiny(c91);
        let c93 = tiny(c92);
        let c94 = tiny(c93);
        let c95 = tiny(c94);
        let c96 = tiny(c95);
        let c97 = tiny(c96);
        let c98 = tiny(c97);
        let c99 = tiny(c98);
        let c100 = tiny(c99);
        c100
    })
}

/// The chain built with lazy handles (fused at run time) and run.
pub fn chain_dynamic(seed: u64, scheduler: &Scheduler) -> u64 {
    let mut x = tiny::lazy(seed);
    for _ in 1..100 {
        x = tiny::lazy(x);
    }
    x.compute_with(scheduler).expect("the dynamic chain failed")
}
