//! The mark's error-correcting code: the convolutional code of constraint
//! length 7 and rate 1/2 with generators 171 and 133 (octal), the one of
//! Voyager, 802.11 and DVB, terminated by 6 zero bits and decoded by a soft
//! Viterbi decoder. Soft decoding lets blocks that a re-encode moved only
//! part of the way count for what they are worth.

/// Bits the encoder remembers.
const MEMORY: usize = 6;
/// Encoder states.
const STATES: usize = 1 << MEMORY;
/// The generator polynomials, one coded bit each per message bit.
const GENERATORS: [u32; 2] = [0o171, 0o133];

/// How many coded bits a message of `bits` bits becomes.
pub(super) const fn coded_len(bits: usize) -> usize {
    2 * (bits + MEMORY)
}

/// The two coded bits of a shift register holding the new bit on top of
/// the `MEMORY` previous ones.
fn outputs(register: usize) -> [bool; 2] {
    GENERATORS.map(|generator| (register as u32 & generator).count_ones() % 2 == 1)
}

/// The coded bits of `bits`, tail included.
pub(super) fn encode(bits: &[bool]) -> Vec<bool> {
    let mut state = 0;
    let mut coded = Vec::with_capacity(coded_len(bits.len()));
    for &bit in bits.iter().chain(&[false; MEMORY]) {
        let register = (usize::from(bit) << MEMORY) | state;
        coded.extend(outputs(register));
        state = register >> 1;
    }
    coded
}

/// The `bits` message bits most likely sent, given `soft`: one value per
/// coded bit, positive for a 0, negative for a 1, its size the confidence.
pub(super) fn decode(soft: &[f64], bits: usize) -> Vec<bool> {
    let steps = bits + MEMORY;
    assert_eq!(soft.len(), 2 * steps, "one soft value per coded bit");
    let mut metric = [f64::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    // Per step, bit `s` set: state `s` was reached from the predecessor
    // whose oldest bit was 1.
    let mut decisions = Vec::with_capacity(steps);
    for pair in soft.chunks_exact(2) {
        let mut next = [f64::NEG_INFINITY; STATES];
        let mut chosen = 0u64;
        for (state, best) in next.iter_mut().enumerate() {
            let bit = state >> (MEMORY - 1);
            for oldest in 0..2 {
                let previous = ((state << 1) & (STATES - 1)) | oldest;
                let coded = outputs((bit << MEMORY) | previous);
                let gain: f64 = coded
                    .iter()
                    .zip(pair)
                    .map(|(&one, &value)| if one { -value } else { value })
                    .sum();
                if metric[previous] + gain > *best {
                    *best = metric[previous] + gain;
                    chosen = (chosen & !(1 << state)) | ((oldest as u64) << state);
                }
            }
        }
        metric = next;
        decisions.push(chosen);
    }
    // The tail brings the encoder back to state 0.
    let mut state = 0;
    let mut message = vec![false; steps];
    for (step, &chosen) in decisions.iter().enumerate().rev() {
        message[step] = state >> (MEMORY - 1) == 1;
        state = ((state << 1) & (STATES - 1)) | ((chosen >> state) & 1) as usize;
    }
    message.truncate(bits);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Vec<bool> {
        (0..168).map(|i| (i * 7 + i / 3) % 5 < 2).collect()
    }

    #[test]
    fn clean_soft_values_decode_to_the_message() {
        let coded = encode(&message());
        assert_eq!(coded.len(), coded_len(168));
        let soft: Vec<f64> = coded.iter().map(|&b| if b { -1.0 } else { 1.0 }).collect();
        assert_eq!(decode(&soft, 168), message());
    }

    #[test]
    fn scattered_errors_and_erasures_are_corrected() {
        let coded = encode(&message());
        let soft: Vec<f64> = coded
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let value = if b { -1.0 } else { 1.0 };
                match i % 20 {
                    0 => -value, // one in 20 inverted
                    10 => 0.0,   // one in 20 erased
                    _ => value,
                }
            })
            .collect();
        assert_eq!(decode(&soft, 168), message());
    }
}
