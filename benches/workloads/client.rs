//! The futures-client workload, shared by the criterion bench
//! `benches/overhead.rs` (group `client`) and the peers report
//! `benches/peers_client.rs`: submit 10,000 tiny independent tasks to a
//! running client and gather their results, as `benches/peers/client.py`
//! does with `dask.distributed`'s `Client(processes=False)`.
#![allow(dead_code)]

use std::hint::black_box;

use dagwood::client::Client;

/// Tasks per submit + gather round.
pub const CLIENT_TASKS: usize = 10_000;

/// The task: a few nanoseconds of work that cannot be optimised away.
pub fn tiny_task(x: u64) -> u64 {
    black_box(x)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
}

/// `CLIENT_TASKS` calls of `client.submit`, then one `gather`; the wrapping
/// sum of the results.
pub fn submit_gather(client: &Client, seed: u64) -> u64 {
    let futures: Vec<_> = (0..CLIENT_TASKS as u64)
        .map(|i| client.submit(tiny_task, i + seed))
        .collect();
    client
        .gather(&futures)
        .map_or(0, |v| v.into_iter().fold(0, u64::wrapping_add))
}

/// The same with one `client.map` call.
pub fn map_gather(client: &Client, seed: u64) -> u64 {
    let futures = client.map(tiny_task, seed..seed + CLIENT_TASKS as u64);
    client
        .gather(&futures)
        .map_or(0, |v| v.into_iter().fold(0, u64::wrapping_add))
}

/// The expected result, by a plain loop.
pub fn expected(seed: u64) -> u64 {
    (0..CLIENT_TASKS as u64)
        .map(|i| tiny_task(i + seed))
        .fold(0, u64::wrapping_add)
}
