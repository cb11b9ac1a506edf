use super::*;

/// A `w` x `h` gray image whose samples count up from 0.
fn counting(w: u32, h: u32) -> Image {
    let data = (0..w * h).map(|v| v as u8).collect();
    Image::from_u8(w, h, Layout::Gray, data).unwrap()
}

fn samples(image: &Image) -> &[u8] {
    match &image.samples {
        Samples::U8(d) => d,
        Samples::U16(_) => unreachable!("8-bit"),
    }
}

const BLACK: Rgba8 = color(0, 0, 0, 255);

const fn color(r: u8, g: u8, b: u8, a: u8) -> Rgba8 {
    Rgba8 { r, g, b, a }
}

#[test]
fn crop_within_copies_and_past_the_edges_fills() {
    let image = counting(4, 3);
    let inside = Region {
        left: 1,
        top: 1,
        width: 2,
        height: 2,
    };
    let out = crop(&image, inside, BLACK, u64::MAX).unwrap();
    assert_eq!((out.width, out.height), (2, 2));
    assert_eq!(samples(&out), [5, 6, 9, 10]);
    let past = Region {
        left: -1,
        top: 2,
        width: 3,
        height: 2,
    };
    let fill = color(200, 200, 200, 255);
    let out = crop(&image, past, fill, u64::MAX).unwrap();
    assert_eq!(samples(&out), [200, 8, 9, 200, 200, 200]);
    let nowhere = Region {
        left: 10,
        top: 0,
        width: 2,
        height: 1,
    };
    assert_eq!(
        samples(&crop(&image, nowhere, BLACK, u64::MAX).unwrap()),
        [0, 0]
    );
}

#[test]
fn a_transparent_fill_adds_alpha_only_where_it_shows() {
    let image = counting(2, 2);
    let clear = color(0, 0, 0, 0);
    let whole = Region {
        left: 0,
        top: 0,
        width: 2,
        height: 2,
    };
    assert_eq!(
        crop(&image, whole, clear, u64::MAX).unwrap().layout,
        Layout::Gray
    );
    let wider = Region { width: 3, ..whole };
    let out = crop(&image, wider, clear, u64::MAX).unwrap();
    assert_eq!(out.layout, Layout::GrayAlpha);
    assert_eq!(samples(&out), [0, 255, 1, 255, 0, 0, 2, 255, 3, 255, 0, 0]);
}

#[test]
fn canvases_past_the_pixel_limit_are_refused_before_allocating() {
    let image = counting(2, 2);
    let huge = Region {
        left: 0,
        top: 0,
        width: 100_000,
        height: 100_000,
    };
    assert!(matches!(
        crop(&image, huge, BLACK, 1 << 24),
        Err(Error::LimitExceeded { .. })
    ));
    let rotation = Rotation {
        degrees: 45.0,
        canvas: Canvas::Bounds,
        interpolation: Interpolation::Nearest,
        fill: BLACK,
    };
    assert!(matches!(
        rotate(&counting(4, 4), rotation, 16),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn right_angles_are_exact_and_turn_clockwise() {
    let image = counting(3, 2); // 0 1 2 / 3 4 5
    let turn = |degrees: f64, canvas: Canvas, interpolation| {
        let rotation = Rotation {
            degrees,
            canvas,
            interpolation,
            fill: BLACK,
        };
        rotate(&image, rotation, u64::MAX).unwrap()
    };
    for interpolation in [Interpolation::Nearest, Interpolation::Bilinear] {
        let cw = turn(90.0, Canvas::Bounds, interpolation);
        assert_eq!((cw.width, cw.height), (2, 3));
        assert_eq!(samples(&cw), [3, 0, 4, 1, 5, 2]);
        assert_eq!(
            samples(&turn(-270.0, Canvas::BoundsRoundedOut, interpolation)),
            samples(&cw)
        );
        assert_eq!(
            samples(&turn(180.0, Canvas::Same, interpolation)),
            [5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            samples(&turn(360.0, Canvas::Same, interpolation)),
            samples(&image)
        );
    }
    // Without expand a quarter turn of a non-square image keeps its size,
    // cutting what falls outside, as Pillow's `rotate(-90)` gives it.
    let kept = turn(90.0, Canvas::Same, Interpolation::Nearest);
    assert_eq!((kept.width, kept.height), (3, 2));
    assert_eq!(samples(&kept), [0, 4, 1, 0, 5, 2]);
}

#[test]
fn other_angles_grow_the_canvas_and_fill_the_corners() {
    let image = Image::from_u8(20, 10, Layout::Gray, vec![255; 200]).unwrap();
    let rotation = Rotation {
        degrees: 30.0,
        canvas: Canvas::BoundsRoundedOut,
        interpolation: Interpolation::Bilinear,
        fill: BLACK,
    };
    // The bounds of a 20x10 box turned 30 degrees are 20 cos + 10 sin by
    // 20 sin + 10 cos (22.3 by 18.7): rounded, as libvips, and rounded out
    // on each side, as Pillow's `expand`.
    let rounded = Rotation {
        canvas: Canvas::Bounds,
        ..rotation
    };
    let out = rotate(&image, rounded, u64::MAX).unwrap();
    assert_eq!((out.width, out.height), (22, 19));
    let out = rotate(&image, rotation, u64::MAX).unwrap();
    assert_eq!((out.width, out.height), (24, 20));
    let px = |x: usize, y: usize| samples(&out)[y * 24 + x];
    assert_eq!(px(0, 0), 0, "a corner is the fill");
    assert_eq!(px(12, 10), 255, "the centre is the image");
    assert!(
        samples(&out).iter().any(|&v| v > 0 && v < 255),
        "edges are blended"
    );
    assert!(rotate(
        &image,
        Rotation {
            degrees: f64::NAN,
            ..rotation
        },
        u64::MAX
    )
    .is_err());
}
