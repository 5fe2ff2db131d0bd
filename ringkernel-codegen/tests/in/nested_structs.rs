//! Structs inside structs, arrays of structs, struct values copied and assigned, and
//! `#[device]` methods on message structs (`self` and `&self`, calling each other).

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Segment {
    pub from: Point,
    pub to: Point,
    pub tag: u8,
}

impl Point {
    #[device]
    fn manhattan(&self, other: Point) -> i32 {
        (self.x - other.x).abs() + (self.y - other.y).abs()
    }

    #[device]
    fn norm2(self) -> i64 {
        (self.x as i64) * (self.x as i64) + (self.y as i64) * (self.y as i64)
    }

    /// A struct result, with an early `return` of `self`.
    #[device]
    fn midpoint(&self, other: Point) -> Point {
        if self.x == other.x && self.y == other.y {
            return *self;
        }
        Point { x: self.x / 2 + other.x / 2, y: self.y / 2 + other.y / 2 }
    }

    /// The angle in whole degrees (the math library, called from a method).
    #[device]
    fn heading(&self) -> i32 {
        (self.y as f64).atan2(self.x as f64).to_degrees() as i32
    }
}

impl Segment {
    #[device]
    fn length(&self) -> i32 {
        self.from.manhattan(self.to)
    }
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Path {
    pub segments: [Segment; 3],
    pub count: u32,
}

#[ring_kernel(id = "path-length")]
fn path_length(ctx: &mut RingContext, path: &mut Path, seg: Segment) -> Point {
    let slot = (path.count % 3) as usize;
    path.segments[slot] = seg;
    path.count += 1;
    let mut total = Point { x: 0, y: 0 };
    for i in 0..3 {
        let s = path.segments[i];
        total.x += s.length();
        total.y += (s.to.y - s.from.y).abs() + (path.segments[i].to.norm2() % 7) as i32;
        total.x = total.x.wrapping_add(s.to.heading());
        let mid = s.from.midpoint(s.to);
        total.y = total.y.wrapping_add(mid.x % 5 - mid.y % 3);
    }
    total
}
