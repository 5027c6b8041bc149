/* pcap_read: the benchmark's floor. A bare libpcap read loop over a capture
 * file that touches each packet's first byte and sums the lengths, so the
 * time it takes is what reading the file costs before any decoding.
 *
 * Usage: pcap_read FILE
 * Output: "packets N bytes B caplen C checksum X" on one line, where B sums
 * the wire lengths and X is the xor of every first byte (printed so the
 * compiler cannot drop the touch). */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_read FILE\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(argv[1], errbuf);
    if (pcap == NULL) {
        fprintf(stderr, "pcap_read: %s\n", errbuf);
        return 1;
    }
    uint64_t packets = 0, bytes = 0, captured = 0;
    unsigned checksum = 0;
    struct pcap_pkthdr *hdr;
    const unsigned char *data;
    int rc;
    while ((rc = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        packets++;
        bytes += hdr->len;
        captured += hdr->caplen;
        if (hdr->caplen > 0)
            checksum ^= data[0];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pcap_read: %s: %s\n", argv[1], pcap_geterr(pcap));
        pcap_close(pcap);
        return 1;
    }
    pcap_close(pcap);
    printf("packets %" PRIu64 " bytes %" PRIu64 " caplen %" PRIu64 " checksum %02x\n", packets,
           bytes, captured, checksum);
    return 0;
}
