//! In-memory image sets: contiguous u8 pixels (row-major, one image after
//! another) and one or more labels per image. Everything is kept as u8, the
//! way the files store it; `to_f32` scales to [0, 1] when a model wants it.

/// `count` greyscale images of `height`×`width`, stored contiguously.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    pub count: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

impl Images {
    pub fn new(count: usize, height: usize, width: usize, pixels: Vec<u8>) -> Self {
        assert_eq!(pixels.len(), count * height * width, "pixel buffer size");
        Self {
            count,
            height,
            width,
            pixels,
        }
    }

    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.height * self.width
    }

    /// The `index`-th image, row-major.
    pub fn image(&self, index: usize) -> &[u8] {
        let len = self.image_len();
        &self.pixels[index * len..(index + 1) * len]
    }

    /// All pixels scaled to [0, 1], as models take them.
    pub fn to_f32(&self) -> Vec<f32> {
        self.pixels.iter().map(|&p| f32::from(p) / 255.0).collect()
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Images {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Images::new(indices.len(), self.height, self.width, pixels)
    }
}

/// Labels, `heads` per image (1 for MNIST, 2 for two-digit images), stored
/// image by image: `values[i * heads + h]` is head `h` of image `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    pub heads: usize,
    pub values: Vec<u8>,
}

impl Labels {
    pub fn new(heads: usize, values: Vec<u8>) -> Self {
        assert!(
            heads > 0 && values.len().is_multiple_of(heads),
            "label buffer size"
        );
        Self { heads, values }
    }

    /// Number of labelled images.
    pub fn count(&self) -> usize {
        self.values.len() / self.heads
    }

    /// The labels of image `index`, one per head.
    pub fn of(&self, index: usize) -> &[u8] {
        &self.values[index * self.heads..(index + 1) * self.heads]
    }

    /// Head `head`'s label for every image.
    pub fn head(&self, head: usize) -> Vec<u8> {
        self.values
            .iter()
            .skip(head)
            .step_by(self.heads)
            .copied()
            .collect()
    }

    pub fn select(&self, indices: &[usize]) -> Labels {
        let mut values = Vec::with_capacity(indices.len() * self.heads);
        for &i in indices {
            values.extend_from_slice(self.of(i));
        }
        Labels::new(self.heads, values)
    }
}

/// Images with their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub images: Images,
    pub labels: Labels,
}

impl Dataset {
    pub fn new(images: Images, labels: Labels) -> Self {
        assert_eq!(images.count, labels.count(), "one label set per image");
        Self { images, labels }
    }

    pub fn len(&self) -> usize {
        self.images.count
    }

    pub fn is_empty(&self) -> bool {
        self.images.count == 0
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset::new(self.images.select(indices), self.labels.select(indices))
    }

    /// The first `n` samples (or all, if there are fewer): for quick runs.
    pub fn take(&self, n: usize) -> Dataset {
        let indices: Vec<usize> = (0..n.min(self.len())).collect();
        self.select(&indices)
    }
}
