//! Labelled loops: `break 'outer` and `continue 'outer` from nested `for`, `while` and `loop`.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Grid {
    pub rows: u32,
    pub cols: u32,
    pub target: u32,
    pub skip: u32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Found {
    pub row: u32,
    pub col: u32,
    pub visited: u32,
    pub skipped: u32,
    pub rounds: u32,
}

#[ring_kernel(id = "labels")]
fn search(ctx: &mut RingContext, g: Grid) -> Found {
    let rows = g.rows % 17;
    let cols = g.cols % 13;
    let mut row = rows;
    let mut col = cols;
    let mut visited = 0u32;
    let mut skipped = 0u32;
    'rows: for r in 0..rows {
        let mut c = 0u32;
        while c < cols {
            c += 1;
            if (r + c) % 7 == g.skip % 7 {
                skipped += 1;
                continue 'rows;
            }
            visited += 1;
            if r.wrapping_mul(cols) + c == g.target % 200 {
                row = r;
                col = c;
                break 'rows;
            }
        }
    }
    let mut rounds = 0u32;
    'outer: loop {
        rounds += 1;
        let mut inner = 0u32;
        loop {
            inner += 1;
            if inner > g.skip % 5 {
                break;
            }
            if rounds + inner > 9 {
                break 'outer;
            }
        }
        if rounds > 20 {
            break;
        }
    }
    Found { row, col, visited, skipped, rounds }
}

/// `break value` from `loop` (nested and labelled), and a variable a loop assigns before
/// every `break`.
#[ring_kernel(id = "break-value")]
fn first_hit(ctx: &mut RingContext, g: Grid) -> Found {
    let limit = g.rows % 50;
    let mut i = 0u32;
    let hit = loop {
        if i >= limit {
            break u32::MAX;
        }
        if (i * i + g.skip) % 11 == g.target % 11 {
            break i;
        }
        i += 1;
    };
    let (row, col) = (hit, i);
    let rounds;
    let mut n = g.cols % 9;
    loop {
        n += 3;
        if n > 20 {
            rounds = n;
            break;
        }
    }
    let visited = 'outer: loop {
        let mut j = 0u32;
        loop {
            j += 1;
            if j > g.skip % 4 {
                break;
            }
            if j == g.target % 3 {
                break 'outer j * 10;
            }
        }
        break 0;
    };
    Found { row, col, visited, skipped: 0, rounds }
}
