//! Coordinate grids (`meshgrid`, `ogrid`) against grids built with ndarray.

use dagwood_collections::array::{meshgrid, ogrid, Array, ArrayError, Complex64};
use dagwood_runtime::Scheduler;
use ndarray::{Array1, Array2, ArrayD};

/// NumPy's `meshgrid(x, y)` (xy indexing), built directly.
fn dense<T: Copy>(x: &Array1<T>, y: &Array1<T>) -> (ArrayD<T>, ArrayD<T>) {
    let (nx, ny) = (x.len(), y.len());
    (
        Array2::from_shape_fn((ny, nx), |(_, j)| x[j]).into_dyn(),
        Array2::from_shape_fn((ny, nx), |(i, _)| y[i]).into_dyn(),
    )
}

#[test]
fn meshgrid_matches_ndarray_over_shapes_and_chunks() {
    for (nx, cx, ny, cy) in [
        (5, 2, 3, 2),
        (7, 7, 4, 1),
        (1, 1, 6, 4),
        (6, 4, 1, 1),
        (10, 3, 9, 4),
        (0, 1, 3, 2),
        (4, 2, 0, 1),
    ] {
        let xs = Array1::from_shape_fn(nx, |i| i as f64 * 0.5 - 1.0);
        let ys = Array1::from_shape_fn(ny, |i| 10.0 + i as f64);
        let x = Array::from_array(&xs, &[cx]).unwrap();
        let y = Array::from_array(&ys, &[cy]).unwrap();
        let (gx, gy) = meshgrid(&x, &y).unwrap();
        let (ex, ey) = dense(&xs, &ys);
        assert_eq!(gx.shape(), &[ny, nx]);
        assert_eq!(gy.shape(), &[ny, nx]);
        assert_eq!(gx.chunks().sizes(1), x.chunks().sizes(0));
        assert_eq!(gx.chunks().sizes(0), y.chunks().sizes(0));
        assert_eq!(gx.compute().unwrap(), ex, "X for nx={nx} ny={ny}");
        assert_eq!(
            gy.compute_with(&Scheduler::Sync).unwrap(),
            ey,
            "Y for nx={nx} ny={ny}"
        );
    }
}

#[test]
fn ogrid_broadcasts_like_the_dense_grids() {
    let xs = Array1::linspace(-2.0, 1.0, 13);
    let ys = Array1::linspace(-1.5, 1.5, 11);
    let x = Array::<f64>::linspace(-2.0, 1.0, 13, 4).unwrap();
    let y = Array::<f64>::linspace(-1.5, 1.5, 11, 3).unwrap();
    let (gx, gy) = ogrid(&x, &y).unwrap();
    assert_eq!(gx.shape(), &[1, 13]);
    assert_eq!(gy.shape(), &[11, 1]);
    assert_eq!(
        gx.compute().unwrap(),
        xs.clone().insert_axis(ndarray::Axis(0)).into_dyn()
    );
    assert_eq!(
        gy.compute().unwrap(),
        ys.clone().insert_axis(ndarray::Axis(1)).into_dyn()
    );

    let (ex, ey) = dense(&xs, &ys);
    let r = (&gx * &gx + &gy * &gy).sqrt();
    assert_eq!(r.shape(), &[11, 13]);
    assert_eq!(r.chunks().sizes(0), y.chunks().sizes(0));
    assert_eq!(r.chunks().sizes(1), x.chunks().sizes(0));
    let expected = (&ex * &ex + &ey * &ey).mapv(f64::sqrt);
    assert_eq!(r.compute().unwrap(), expected);

    // Dense and sparse grids give the same expression values.
    let (mx, my) = meshgrid(&x, &y).unwrap();
    assert_eq!((&mx * &mx + &my * &my).sqrt().compute().unwrap(), expected);
}

#[test]
fn operations_on_grids_fuse_into_the_grid_tasks() {
    let x = Array::<f64>::linspace(0.0, 1.0, 40, 10).unwrap();
    let y = Array::<f64>::linspace(0.0, 1.0, 30, 10).unwrap();
    let (gx, gy) = meshgrid(&x, &y).unwrap();
    let base = (&gx + &gy).task_count().unwrap();
    let longer = ((&gx * 2.0 + &gy * &gy - 1.0).abs() * &gx)
        .task_count()
        .unwrap();
    assert_eq!(base, longer, "more elementwise operations add no tasks");

    let (ox, oy) = ogrid(&x, &y).unwrap();
    let sparse = (&ox * 2.0 + &oy * &oy - 1.0).task_count().unwrap();
    // Broadcasting reads the sparse grids' own blocks (one task each), then
    // everything else fuses as with the dense grids.
    assert_eq!(
        sparse,
        base + ox.num_blocks() + oy.num_blocks(),
        "the sparse grids add only their own blocks"
    );
}

#[test]
fn a_few_mandelbrot_iterations_over_an_ogrid() {
    let (nx, ny) = (24, 16);
    let xs = Array1::linspace(-2.0, 1.0, nx);
    let ys = Array1::linspace(-1.0, 1.0, ny);
    let x = Array::<f64>::linspace(-2.0, 1.0, nx, 7).unwrap();
    let y = Array::<f64>::linspace(-1.0, 1.0, ny, 5).unwrap();
    let (gx, gy) = ogrid(&x, &y).unwrap();
    let c = gx.to_complex() + gy.to_complex() * Complex64::new(0.0, 1.0);
    let mut z = c.clone();
    for _ in 0..4 {
        z = &z * &z + &c;
    }
    let got = z.norm().compute().unwrap();

    let expected = Array2::from_shape_fn((ny, nx), |(i, j)| {
        let c = Complex64::new(xs[j], ys[i]);
        let mut z = c;
        for _ in 0..4 {
            z = z * z + c;
        }
        z.norm()
    })
    .into_dyn();
    assert_eq!(got.shape(), expected.shape());
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            (g - e).abs() <= 1e-12 * e.abs().max(1.0) || (g.is_nan() && e.is_nan()),
            "{g} vs {e}"
        );
    }
}

#[test]
fn grids_of_any_element_type() {
    let xs = ndarray::array![1i64, 2, 3];
    let ys = ndarray::array![true, false];
    let x = Array::from_array(&xs, &[2]).unwrap();
    let (gx, _) = meshgrid(&x, &x).unwrap();
    assert_eq!(gx.compute().unwrap(), dense(&xs, &xs).0);
    let b = Array::from_array(&ys, &[1]).unwrap();
    let (_, gb) = meshgrid(&b, &b).unwrap();
    assert_eq!(gb.compute().unwrap(), dense(&ys, &ys).1);
}

#[test]
fn inputs_in_any_memory_layout() {
    // A reversed view: its blocks keep a negative stride, which the
    // row/column relabelling must not misread.
    let base = Array1::from_shape_fn(9, |i| i as i32);
    let rev = base.slice(ndarray::s![..;-1]);
    let x = Array::from_array(rev, &[4]).unwrap();
    let (gx, gy) = ogrid(&x, &x).unwrap();
    let owned = rev.to_owned();
    assert_eq!(
        gx.compute().unwrap(),
        owned.clone().insert_axis(ndarray::Axis(0)).into_dyn()
    );
    assert_eq!(
        gy.compute().unwrap(),
        owned.clone().insert_axis(ndarray::Axis(1)).into_dyn()
    );
    let (mx, my) = meshgrid(&x, &x).unwrap();
    let (ex, ey) = dense(&owned, &owned);
    assert_eq!(mx.compute().unwrap(), ex);
    assert_eq!(my.compute().unwrap(), ey);
}

#[test]
fn inputs_must_be_one_dimensional() {
    let m = Array::<f64>::zeros(&[2, 3], &[1, 1]).unwrap();
    let v = Array::<f64>::zeros(&[4], &[2]).unwrap();
    for r in [
        meshgrid(&m, &v),
        meshgrid(&v, &m),
        ogrid(&m, &v),
        ogrid(&v, &m),
    ] {
        match r {
            Err(ArrayError::Invalid(msg)) => {
                assert!(msg.contains("[2, 3]") && msg.contains("1-D"), "{msg}")
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
    let s = Array::<f64>::zeros(&[], &[]).unwrap();
    assert!(matches!(ogrid(&s, &v), Err(ArrayError::Invalid(_))));
}

#[test]
fn deferred_errors_surface() {
    let a = Array::<f64>::zeros(&[3], &[2]).unwrap();
    let b = Array::<f64>::zeros(&[4], &[2]).unwrap();
    let bad = &a + &b; // shape mismatch, deferred into the array
    assert!(matches!(
        meshgrid(&bad, &a),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ogrid(&a, &bad),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}
