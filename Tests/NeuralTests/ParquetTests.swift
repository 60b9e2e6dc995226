// Parquet submission tables: the writer's bytes for a hand-made 2-row table (magic, footer, Thrift
// metadata, page levels), round trips through many row groups and pages, the SubmissionWriter/evaluate
// path, and the reader on files written by pyarrow (scripts/dev/make-parquet-submission-fixture.py).
import Foundation
import NeuralData
import Testing

/// pyarrow 26: `to_parquet(compression=None, use_dictionary=False)` of the table in the generator script.
private let pyarrowPlain = Data(
    base64Encoded:
        "UEFSMRUAFXwVfCwVBhUAFQYVBhw2ACgIbW91c2UtzrIYEmR5bmFtaWMyOTUxNS0xMC0xMhERAAAAAgAAAAYBEgAAAGR5bmFtaWMy"
        + "OTUxNS0xMC0xMhIAAABkeW5hbWljMjk1MTUtMTAtMTIIAAAAbW91c2UtzrIVABU8FTwsFQYVABUGFQYcGAgMAAAAAAAAABgIAwAA"
        + "AAAAAAAWACgIDAAAAAAAAAAYCAMAAAAAAAAAEREAAAACAAAABgEHAAAAAAAAAAwAAAAAAAAAAwAAAAAAAAAVABV4FXgsFRYVABUG"
        + "FQYcGAQA4H9HGAQAABDAFgIoBADgf0cYBAAAEMAREQAAAAUAAAAFaEooAAcAAAAFbduubQEAAADAPwAAEMAAAEBAzczMPc3MTD6a"
        + "mZk+AACAQJW/1jMA4H9HAAAAgBUAFWgVaCwVChUAFQYVBhwYCBQAAAAAAAAAGAgFAAAAAAAAABYAKAgUAAAAAAAAABgIBQAAAAAA"
        + "AAAREQAAAAIAAAADCgIAAAAKAwoAAAAAAAAAFAAAAAAAAAAKAAAAAAAAABQAAAAAAAAABQAAAAAAAAAVBBm8NQAYBnNjaGVtYRUI"
        + "ABUMJQIYBW1vdXNlJQBMHAAAABUEJQIYDXRyaWFsX2luZGljZXMANQIYCnByZWRpY3Rpb24VAhUGTDwAAAA1BBgEbGlzdBUCADUC"
        + "GAdlbGVtZW50FQIVBkw8AAAANQQYBGxpc3QVAgAVCCUCGAdlbGVtZW50ADUCGApuZXVyb25faWRzFQIVBkw8AAAANQQYBGxpc3QV"
        + "AgAVBCUCGAdlbGVtZW50ABYGGRwZTCYAHBUMGSUGABkYBW1vdXNlFQAWBhbmARbmASYIPDYAKAhtb3VzZS3OshgSZHluYW1pYzI5"
        + "NTE1LTEwLTEyEREAGRwVABUAFQIAPBZYGQYZJgAGAAAAJgAcFQQZJQYAGRgNdHJpYWxfaW5kaWNlcxUAFgYWugEWugEm7gE8GAgM"
        + "AAAAAAAAABgIAwAAAAAAAAAWACgIDAAAAAAAAAAYCAMAAAAAAAAAEREAGRwVABUAFQIAPCkGGSYABgAAACYAHBUIGSUGABlYCnBy"
        + "ZWRpY3Rpb24EbGlzdAdlbGVtZW50BGxpc3QHZWxlbWVudBUAFhYW1gEW1gEmqAM8GAQA4H9HGAQAABDAFgIoBADgf0cYBAAAEMAR"
        + "EQAZHBUAFQAVAgA8KTYGBAwZZgAAAAIAFAAAACYAHBUEGSUGABk4Cm5ldXJvbl9pZHMEbGlzdAdlbGVtZW50FQAWChbmARbmASb+"
        + "BDwYCBQAAAAAAAAAGAgFAAAAAAAAABYAKAgUAAAAAAAAABgIBQAAAAAAAAAREQAZHBUAFQAVAgA8KSYGBBlGAAAACgAAABbcBhYG"
        + "JggW3AYAGSwYBnBhbmRhcxi3BnsiaW5kZXhfY29sdW1ucyI6IFt7ImtpbmQiOiAicmFuZ2UiLCAibmFtZSI6IG51bGwsICJzdGFy"
        + "dCI6IDAsICJzdG9wIjogMywgInN0ZXAiOiAxfV0sICJjb2x1bW5faW5kZXhlcyI6IFt7Im5hbWUiOiBudWxsLCAiZmllbGRfbmFt"
        + "ZSI6IG51bGwsICJwYW5kYXNfdHlwZSI6ICJ1bmljb2RlIiwgIm51bXB5X3R5cGUiOiAic3RyIiwgIm1ldGFkYXRhIjogeyJlbmNv"
        + "ZGluZyI6ICJVVEYtOCJ9fV0sICJjb2x1bW5zIjogW3sibmFtZSI6ICJtb3VzZSIsICJmaWVsZF9uYW1lIjogIm1vdXNlIiwgInBh"
        + "bmRhc190eXBlIjogIm9iamVjdCIsICJudW1weV90eXBlIjogInN0ciIsICJtZXRhZGF0YSI6IG51bGx9LCB7Im5hbWUiOiAidHJp"
        + "YWxfaW5kaWNlcyIsICJmaWVsZF9uYW1lIjogInRyaWFsX2luZGljZXMiLCAicGFuZGFzX3R5cGUiOiAiaW50NjQiLCAibnVtcHlf"
        + "dHlwZSI6ICJpbnQ2NCIsICJtZXRhZGF0YSI6IG51bGx9LCB7Im5hbWUiOiAicHJlZGljdGlvbiIsICJmaWVsZF9uYW1lIjogInBy"
        + "ZWRpY3Rpb24iLCAicGFuZGFzX3R5cGUiOiAibGlzdFtsaXN0W2Zsb2F0MzJdXSIsICJudW1weV90eXBlIjogIm9iamVjdCIsICJt"
        + "ZXRhZGF0YSI6IG51bGx9LCB7Im5hbWUiOiAibmV1cm9uX2lkcyIsICJmaWVsZF9uYW1lIjogIm5ldXJvbl9pZHMiLCAicGFuZGFz"
        + "X3R5cGUiOiAibGlzdFtpbnQ2NF0iLCAibnVtcHlfdHlwZSI6ICJvYmplY3QiLCAibWV0YWRhdGEiOiBudWxsfV0sICJhdHRyaWJ1"
        + "dGVzIjoge30sICJjcmVhdG9yIjogeyJsaWJyYXJ5IjogInB5YXJyb3ciLCAidmVyc2lvbiI6ICIyNi4wLjEifSwgInBhbmRhc192"
        + "ZXJzaW9uIjogIjMuMS4xIn0AGAxBUlJPVzpzY2hlbWEY2A0vLy8vL3hnRkFBQVFBQUFBQUFBS0FBNEFCZ0FGQUFnQUNnQUFBQUFC"
        + "QkFBUUFBQUFBQUFLQUF3QUFBQUVBQWdBQ2dBQUFHd0RBQUFFQUFBQUFRQUFBQXdBQUFBSUFBd0FCQUFJQUFnQUFBQkVBd0FBQkFB"
        + "QUFEY0RBQUI3SW1sdVpHVjRYMk52YkhWdGJuTWlPaUJiZXlKcmFXNWtJam9nSW5KaGJtZGxJaXdnSW01aGJXVWlPaUJ1ZFd4c0xD"
        + "QWljM1JoY25RaU9pQXdMQ0FpYzNSdmNDSTZJRE1zSUNKemRHVndJam9nTVgxZExDQWlZMjlzZFcxdVgybHVaR1Y0WlhNaU9pQmJl"
        + "eUp1WVcxbElqb2diblZzYkN3Z0ltWnBaV3hrWDI1aGJXVWlPaUJ1ZFd4c0xDQWljR0Z1WkdGelgzUjVjR1VpT2lBaWRXNXBZMjlr"
        + "WlNJc0lDSnVkVzF3ZVY5MGVYQmxJam9nSW5OMGNpSXNJQ0p0WlhSaFpHRjBZU0k2SUhzaVpXNWpiMlJwYm1jaU9pQWlWVlJHTFRn"
        + "aWZYMWRMQ0FpWTI5c2RXMXVjeUk2SUZ0N0ltNWhiV1VpT2lBaWJXOTFjMlVpTENBaVptbGxiR1JmYm1GdFpTSTZJQ0p0YjNWelpT"
        + "SXNJQ0p3WVc1a1lYTmZkSGx3WlNJNklDSnZZbXBsWTNRaUxDQWliblZ0Y0hsZmRIbHdaU0k2SUNKemRISWlMQ0FpYldWMFlXUmhk"
        + "R0VpT2lCdWRXeHNmU3dnZXlKdVlXMWxJam9nSW5SeWFXRnNYMmx1WkdsalpYTWlMQ0FpWm1sbGJHUmZibUZ0WlNJNklDSjBjbWxo"
        + "YkY5cGJtUnBZMlZ6SWl3Z0luQmhibVJoYzE5MGVYQmxJam9nSW1sdWREWTBJaXdnSW01MWJYQjVYM1I1Y0dVaU9pQWlhVzUwTmpR"
        + "aUxDQWliV1YwWVdSaGRHRWlPaUJ1ZFd4c2ZTd2dleUp1WVcxbElqb2dJbkJ5WldScFkzUnBiMjRpTENBaVptbGxiR1JmYm1GdFpT"
        + "STZJQ0p3Y21Wa2FXTjBhVzl1SWl3Z0luQmhibVJoYzE5MGVYQmxJam9nSW14cGMzUmJiR2x6ZEZ0bWJHOWhkRE15WFYwaUxDQWli"
        + "blZ0Y0hsZmRIbHdaU0k2SUNKdlltcGxZM1FpTENBaWJXVjBZV1JoZEdFaU9pQnVkV3hzZlN3Z2V5SnVZVzFsSWpvZ0ltNWxkWEp2"
        + "Ymw5cFpITWlMQ0FpWm1sbGJHUmZibUZ0WlNJNklDSnVaWFZ5YjI1ZmFXUnpJaXdnSW5CaGJtUmhjMTkwZVhCbElqb2dJbXhwYzNS"
        + "YmFXNTBOalJkSWl3Z0ltNTFiWEI1WDNSNWNHVWlPaUFpYjJKcVpXTjBJaXdnSW0xbGRHRmtZWFJoSWpvZ2JuVnNiSDFkTENBaVlY"
        + "UjBjbWxpZFhSbGN5STZJSHQ5TENBaVkzSmxZWFJ2Y2lJNklIc2liR2xpY21GeWVTSTZJQ0p3ZVdGeWNtOTNJaXdnSW5abGNuTnBi"
        + "MjRpT2lBaU1qWXVNQzR4SW4wc0lDSndZVzVrWVhOZmRtVnljMmx2YmlJNklDSXpMakV1TVNKOUFBWUFBQUJ3WVc1a1lYTUFBQVFB"
        + "QUFCTUFRQUErQUFBQUdnQUFBQUVBQUFBMVA3Ly93QUFBUXdVQUFBQUlBQUFBQVFBQUFBQkFBQUFHQUFBQUFvQUFBQnVaWFZ5YjI1"
        + "ZmFXUnpBQURNL3YvL0JQLy8vd0FBQVFJUUFBQUFHQUFBQUFRQUFBQUFBQUFBQkFBQUFHbDBaVzBBQUFBQVBQLy8vd0FBQUFGQUFB"
        + "QUFOUC8vL3dBQUFRd1VBQUFBSUFBQUFBUUFBQUFCQUFBQUdBQUFBQW9BQUFCd2NtVmthV04wYVc5dUFBQXMvLy8vWlAvLy93QUFB"
        + "UXdVQUFBQUhBQUFBQVFBQUFBQkFBQUFGQUFBQUFRQUFBQnBkR1Z0QUFBQUFGai8vLytRLy8vL0FBQUJBeEFBQUFBY0FBQUFCQUFB"
        + "QUFBQUFBQUVBQUFBYVhSbGJRQUFCZ0FJQUFZQUJnQUFBQUFBQVFEQS8vLy9BQUFCQWhBQUFBQW9BQUFBQkFBQUFBQUFBQUFOQUFB"
        + "QWRISnBZV3hmYVc1a2FXTmxjd0FBQUFnQURBQUlBQWNBQ0FBQUFBQUFBQUZBQUFBQUVBQVVBQWdBQmdBSEFBd0FBQUFRQUJBQUFB"
        + "QUFBQUVVRUFBQUFCd0FBQUFFQUFBQUFBQUFBQVVBQUFCdGIzVnpaUUFBQUFRQUJBQUVBQUFBQUFBQUFBPT0AGCBwYXJxdWV0LWNw"
        + "cC1hcnJvdyB2ZXJzaW9uIDI2LjAuMRlMHAAAHAAAHAAAHAAAAM4MAABQQVIx")!
/// The same table with `compression="brotli"`, as the competition's files were written.
private let pyarrowBrotli = Data(
    base64Encoded:
        "UEFSMRUEFUQVRkwVBBUAEgAAGyEAAARqcodx4r/1bUGgGkGpSSkLldWVgLne8cgldwDt9AcVABUSFRosFQYVEBUGFQYcNgAoCG1v"
        + "dXNlLc6yGBJkeW5hbWljMjk1MTUtMTAtMTIREQAAAAsEgAIAAAAGAQEDBAMVBBUwFSRMFQYVABIAABsXAACkAQYOGGQDjVBSiHTo"
        + "ExUAFRQVHCwVBhUQFQYVBhwYCAwAAAAAAAAAGAgDAAAAAAAAABYAKAgMAAAAAAAAABgIAwAAAAAAAAAREQAAAIsEgAIAAAAGAQID"
        + "JAADFQQVUBVYTBUUFQASAACLE4AAAMA/AAAQwAAAQEDNzMw9zcxMPpqZmT4AAIBAlb/WMwDgf0cAAACAAxUAFTwVRCwVFhUQFQYV"
        + "BhwYBADgf0cYBAAAEMAWAigEAOB/RxgEAAAQwBERAAAAiw6ABQAAAAVoSigABwAAAAVt265tAQAEBRAyVHaYAAAAAxUEFTAVJEwV"
        + "BhUAEgAAGxcAAKQBChQoZAONUFKIdOgTFQAVIBUkLBUKFRAVBhUGHBgIFAAAAAAAAAAYCAUAAAAAAAAAFgAoCBQAAAAAAAAAGAgF"
        + "AAAAAAAAABERAAAAGw8AAAQ2xkRfdxeyxEGgWXYBFQQZvDUAGAZzY2hlbWEVCAAVDCUCGAVtb3VzZSUATBwAAAAVBCUCGA10cmlh"
        + "bF9pbmRpY2VzADUCGApwcmVkaWN0aW9uFQIVBkw8AAAANQQYBGxpc3QVAgA1AhgHZWxlbWVudBUCFQZMPAAAADUEGARsaXN0FQIA"
        + "FQglAhgHZWxlbWVudAA1AhgKbmV1cm9uX2lkcxUCFQZMPAAAADUEGARsaXN0FQIAFQQlAhgHZWxlbWVudAAWBhkcGUwmABwVDBk1"
        + "AAYQGRgFbW91c2UVCBYGFtwBFuYBJmomCBw2ACgIbW91c2UtzrIYEmR5bmFtaWMyOTUxNS0xMC0xMhERABksFQQVABUCABUAFRAV"
        + "AgA8FlgZBhkmAAYAAAAmABwVBBk1AAYQGRgNdHJpYWxfaW5kaWNlcxUIFgYW3gEW2gEmrgIm7gEcGAgMAAAAAAAAABgIAwAAAAAA"
        + "AAAWACgIDAAAAAAAAAAYCAMAAAAAAAAAEREAGSwVBBUAFQIAFQAVEBUCADwpBhkmAAYAAAAmABwVCBk1AAYQGVgKcHJlZGljdGlv"
        + "bgRsaXN0B2VsZW1lbnQEbGlzdAdlbGVtZW50FQgWFhaGAhaWAia8BCbIAxwYBADgf0cYBAAAEMAWAigEAOB/RxgEAAAQwBERABks"
        + "FQQVABUCABUAFRAVAgA8KTYGBAwZZgAAAAIAFAAAACYAHBUEGTUABhAZOApuZXVyb25faWRzBGxpc3QHZWxlbWVudBUIFgoW6gEW"
        + "4gEmngYm3gUcGAgUAAAAAAAAABgIBQAAAAAAAAAWACgIFAAAAAAAAAAYCAUAAAAAAAAAEREAGSwVBBUAFQIAFQAVEBUCADwpJgYE"
        + "GUYAAAAKAAAAFqoHFgYmCBa4BwAZLBgGcGFuZGFzGLcGeyJpbmRleF9jb2x1bW5zIjogW3sia2luZCI6ICJyYW5nZSIsICJuYW1l"
        + "IjogbnVsbCwgInN0YXJ0IjogMCwgInN0b3AiOiAzLCAic3RlcCI6IDF9XSwgImNvbHVtbl9pbmRleGVzIjogW3sibmFtZSI6IG51"
        + "bGwsICJmaWVsZF9uYW1lIjogbnVsbCwgInBhbmRhc190eXBlIjogInVuaWNvZGUiLCAibnVtcHlfdHlwZSI6ICJzdHIiLCAibWV0"
        + "YWRhdGEiOiB7ImVuY29kaW5nIjogIlVURi04In19XSwgImNvbHVtbnMiOiBbeyJuYW1lIjogIm1vdXNlIiwgImZpZWxkX25hbWUi"
        + "OiAibW91c2UiLCAicGFuZGFzX3R5cGUiOiAib2JqZWN0IiwgIm51bXB5X3R5cGUiOiAic3RyIiwgIm1ldGFkYXRhIjogbnVsbH0s"
        + "IHsibmFtZSI6ICJ0cmlhbF9pbmRpY2VzIiwgImZpZWxkX25hbWUiOiAidHJpYWxfaW5kaWNlcyIsICJwYW5kYXNfdHlwZSI6ICJp"
        + "bnQ2NCIsICJudW1weV90eXBlIjogImludDY0IiwgIm1ldGFkYXRhIjogbnVsbH0sIHsibmFtZSI6ICJwcmVkaWN0aW9uIiwgImZp"
        + "ZWxkX25hbWUiOiAicHJlZGljdGlvbiIsICJwYW5kYXNfdHlwZSI6ICJsaXN0W2xpc3RbZmxvYXQzMl1dIiwgIm51bXB5X3R5cGUi"
        + "OiAib2JqZWN0IiwgIm1ldGFkYXRhIjogbnVsbH0sIHsibmFtZSI6ICJuZXVyb25faWRzIiwgImZpZWxkX25hbWUiOiAibmV1cm9u"
        + "X2lkcyIsICJwYW5kYXNfdHlwZSI6ICJsaXN0W2ludDY0XSIsICJudW1weV90eXBlIjogIm9iamVjdCIsICJtZXRhZGF0YSI6IG51"
        + "bGx9XSwgImF0dHJpYnV0ZXMiOiB7fSwgImNyZWF0b3IiOiB7ImxpYnJhcnkiOiAicHlhcnJvdyIsICJ2ZXJzaW9uIjogIjI2LjAu"
        + "MSJ9LCAicGFuZGFzX3ZlcnNpb24iOiAiMy4xLjEifQAYDEFSUk9XOnNjaGVtYRjYDS8vLy8veGdGQUFBUUFBQUFBQUFLQUE0QUJn"
        + "QUZBQWdBQ2dBQUFBQUJCQUFRQUFBQUFBQUtBQXdBQUFBRUFBZ0FDZ0FBQUd3REFBQUVBQUFBQVFBQUFBd0FBQUFJQUF3QUJBQUlB"
        + "QWdBQUFCRUF3QUFCQUFBQURjREFBQjdJbWx1WkdWNFgyTnZiSFZ0Ym5NaU9pQmJleUpyYVc1a0lqb2dJbkpoYm1kbElpd2dJbTVo"
        + "YldVaU9pQnVkV3hzTENBaWMzUmhjblFpT2lBd0xDQWljM1J2Y0NJNklETXNJQ0p6ZEdWd0lqb2dNWDFkTENBaVkyOXNkVzF1WDJs"
        + "dVpHVjRaWE1pT2lCYmV5SnVZVzFsSWpvZ2JuVnNiQ3dnSW1acFpXeGtYMjVoYldVaU9pQnVkV3hzTENBaWNHRnVaR0Z6WDNSNWNH"
        + "VWlPaUFpZFc1cFkyOWtaU0lzSUNKdWRXMXdlVjkwZVhCbElqb2dJbk4wY2lJc0lDSnRaWFJoWkdGMFlTSTZJSHNpWlc1amIyUnBi"
        + "bWNpT2lBaVZWUkdMVGdpZlgxZExDQWlZMjlzZFcxdWN5STZJRnQ3SW01aGJXVWlPaUFpYlc5MWMyVWlMQ0FpWm1sbGJHUmZibUZ0"
        + "WlNJNklDSnRiM1Z6WlNJc0lDSndZVzVrWVhOZmRIbHdaU0k2SUNKdlltcGxZM1FpTENBaWJuVnRjSGxmZEhsd1pTSTZJQ0p6ZEhJ"
        + "aUxDQWliV1YwWVdSaGRHRWlPaUJ1ZFd4c2ZTd2dleUp1WVcxbElqb2dJblJ5YVdGc1gybHVaR2xqWlhNaUxDQWlabWxsYkdSZmJt"
        + "RnRaU0k2SUNKMGNtbGhiRjlwYm1ScFkyVnpJaXdnSW5CaGJtUmhjMTkwZVhCbElqb2dJbWx1ZERZMElpd2dJbTUxYlhCNVgzUjVj"
        + "R1VpT2lBaWFXNTBOalFpTENBaWJXVjBZV1JoZEdFaU9pQnVkV3hzZlN3Z2V5SnVZVzFsSWpvZ0luQnlaV1JwWTNScGIyNGlMQ0Fp"
        + "Wm1sbGJHUmZibUZ0WlNJNklDSndjbVZrYVdOMGFXOXVJaXdnSW5CaGJtUmhjMTkwZVhCbElqb2dJbXhwYzNSYmJHbHpkRnRtYkc5"
        + "aGRETXlYVjBpTENBaWJuVnRjSGxmZEhsd1pTSTZJQ0p2WW1wbFkzUWlMQ0FpYldWMFlXUmhkR0VpT2lCdWRXeHNmU3dnZXlKdVlX"
        + "MWxJam9nSW01bGRYSnZibDlwWkhNaUxDQWlabWxsYkdSZmJtRnRaU0k2SUNKdVpYVnliMjVmYVdSeklpd2dJbkJoYm1SaGMxOTBl"
        + "WEJsSWpvZ0lteHBjM1JiYVc1ME5qUmRJaXdnSW01MWJYQjVYM1I1Y0dVaU9pQWliMkpxWldOMElpd2dJbTFsZEdGa1lYUmhJam9n"
        + "Ym5Wc2JIMWRMQ0FpWVhSMGNtbGlkWFJsY3lJNklIdDlMQ0FpWTNKbFlYUnZjaUk2SUhzaWJHbGljbUZ5ZVNJNklDSndlV0Z5Y205"
        + "M0lpd2dJblpsY25OcGIyNGlPaUFpTWpZdU1DNHhJbjBzSUNKd1lXNWtZWE5mZG1WeWMybHZiaUk2SUNJekxqRXVNU0o5QUFZQUFB"
        + "QndZVzVrWVhNQUFBUUFBQUJNQVFBQStBQUFBR2dBQUFBRUFBQUExUDcvL3dBQUFRd1VBQUFBSUFBQUFBUUFBQUFCQUFBQUdBQUFB"
        + "QW9BQUFCdVpYVnliMjVmYVdSekFBRE0vdi8vQlAvLy93QUFBUUlRQUFBQUdBQUFBQVFBQUFBQUFBQUFCQUFBQUdsMFpXMEFBQUFB"
        + "UFAvLy93QUFBQUZBQUFBQU5QLy8vd0FBQVF3VUFBQUFJQUFBQUFRQUFBQUJBQUFBR0FBQUFBb0FBQUJ3Y21Wa2FXTjBhVzl1QUFB"
        + "cy8vLy9aUC8vL3dBQUFRd1VBQUFBSEFBQUFBUUFBQUFCQUFBQUZBQUFBQVFBQUFCcGRHVnRBQUFBQUZqLy8vK1EvLy8vQUFBQkF4"
        + "QUFBQUFjQUFBQUJBQUFBQUFBQUFBRUFBQUFhWFJsYlFBQUJnQUlBQVlBQmdBQUFBQUFBUURBLy8vL0FBQUJBaEFBQUFBb0FBQUFC"
        + "QUFBQUFBQUFBQU5BQUFBZEhKcFlXeGZhVzVrYVdObGN3QUFBQWdBREFBSUFBY0FDQUFBQUFBQUFBRkFBQUFBRUFBVUFBZ0FCZ0FI"
        + "QUF3QUFBQVFBQkFBQUFBQUFBRVVFQUFBQUJ3QUFBQUVBQUFBQUFBQUFBVUFBQUJ0YjNWelpRQUFBQVFBQkFBRUFBQUFBQUFBQUE9"
        + "PQAYIHBhcnF1ZXQtY3BwLWFycm93IHZlcnNpb24gMjYuMC4xGUwcAAAcAAAcAAAcAAAA+QwAAFBBUjE=")!

private func encode(_ rows: [SubmissionRow], rowGroupBytes: Int = 64 << 20, pageBytes: Int = 1 << 20) -> [UInt8] {
    var encoder = ParquetSubmissionEncoder(rowGroupBytes: rowGroupBytes, pageBytes: pageBytes)
    var bytes = encoder.start()
    for row in rows { bytes += encoder.append(row) }
    return bytes + encoder.finish()
}

private func readBack(_ bytes: [UInt8], name: String = "t.parquet") throws -> [SubmissionRow] {
    let folder = TestData.scratch("parquet-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    var rows: [SubmissionRow] = []
    try readSubmission(url) { rows.append($0) }
    return rows
}

private func footer(_ bytes: [UInt8]) throws -> ThriftValue {
    let n = bytes.count
    let length = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
    var reader = ThriftCompactReader(bytes: Array(bytes[(n - 8 - length)..<(n - 8)]))
    let meta = try reader.readStruct()
    #expect(reader.position == length, "the footer is exactly one FileMetaData")
    return meta
}

private func string(_ v: ThriftValue?) -> String? { v?.binary.map { String(decoding: $0, as: UTF8.self) } }

private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

private let twoRows = [
    SubmissionRow(mouse: "m1", trialIndex: 7, prediction: [[1, 2, 3], [4, 5, 6]], neuronIDs: [10, 20]),
    SubmissionRow(mouse: "mouse-β", trialIndex: 12, prediction: [[0.5], [], [-1.25, 2]], neuronIDs: [5, 6, 9]),
]

@Suite("parquet submission tables")
struct ParquetTests {
    @Test func bytesOfAHandMadeTwoRowTable() throws {
        let bytes = encode(twoRows)
        #expect(Array(bytes.prefix(4)) == Array("PAR1".utf8) && Array(bytes.suffix(4)) == Array("PAR1".utf8))
        let meta = try footer(bytes)
        #expect(meta[1]?.int == 1 && meta[3]?.int == 2, "version 1, 2 rows")
        let schema = try #require(meta[2]?.list)
        // (name, physical type, repetition, children, converted type): depth first, three-level lists.
        let expected: [(String, Int64?, Int64?, Int64?, Int64?)] = [
            ("schema", nil, nil, 4, nil), ("mouse", 6, 0, nil, 0), ("trial_indices", 2, 0, nil, nil),
            ("prediction", nil, 0, 1, 3), ("list", nil, 2, 1, nil), ("element", nil, 0, 1, 3), ("list", nil, 2, 1, nil),
            ("element", 5, 0, nil, nil), ("neuron_ids", nil, 0, 1, 3), ("list", nil, 2, 1, nil), ("element", 2, 0, nil, nil),
        ]
        #expect(schema.count == expected.count)
        for (element, e) in zip(schema, expected) {
            #expect(
                string(element[4]) == e.0 && element[1]?.int == e.1 && element[3]?.int == e.2
                    && element[5]?.int == e.3 && element[6]?.int == e.4, "schema element \(e.0)")
        }
        #expect(schema[1][10] == .structure([1: .structure([:])]), "mouse: LogicalType STRING")
        #expect(schema[3][10] == .structure([3: .structure([:])]), "prediction: LogicalType LIST")

        let groups = try #require(meta[4]?.list)
        #expect(groups.count == 1 && groups[0][3]?.int == 2)
        let chunks = try #require(groups[0][1]?.list)
        let paths = chunks.map { ($0[3]?[3]?.list ?? []).compactMap(string).joined(separator: ".") }
        #expect(paths == ["mouse", "trial_indices", "prediction.list.element.list.element", "neuron_ids.list.element"])
        #expect(chunks.map { $0[3]?[5]?.int } == [2, 2, 10, 5], "num_values = level entries")
        #expect(chunks.allSatisfy { $0[3]?[4]?.int == 0 && $0[3]?[2]?.list == [.int(0), .int(3)] }, "UNCOMPRESSED, PLAIN + RLE")
        // Chunks are contiguous from byte 4 to the footer.
        var offset = 4
        for chunk in chunks {
            #expect(chunk[3]?[9]?.int == Int64(offset))
            offset += Int(chunk[3]?[7]?.int ?? 0)
        }
        #expect(offset == bytes.count - 8 - (try footerLength(bytes)))

        // Pages: header, then (rep levels, def levels: 4-byte length + RLE runs `count << 1, value`), then PLAIN values.
        func page(_ i: Int) throws -> (header: ThriftValue, body: [UInt8]) {
            var reader = ThriftCompactReader(bytes: bytes, position: Int(chunks[i][3]?[9]?.int ?? 0))
            let header = try reader.readStruct()
            let size = Int(header[3]?.int ?? 0)
            #expect(header[1]?.int == 0 && header[2]?.int == header[3]?.int, "uncompressed v1 data page")
            #expect(reader.position + size == Int(chunks[i][3]?[9]?.int ?? 0) + Int(chunks[i][3]?[7]?.int ?? 0), "one page")
            return (header, Array(bytes[reader.position..<(reader.position + size)]))
        }
        let mouse = try page(0)
        #expect(mouse.header[5] == .structure([1: .int(2), 2: .int(0), 3: .int(3), 4: .int(3)]))
        #expect(mouse.body == le(UInt32(2)) + Array("m1".utf8) + le(UInt32(8)) + Array("mouse-β".utf8), "no levels for required scalars")
        #expect(try page(1).body == le(Int64(7)) + le(Int64(12)))
        // prediction entries (rep, def): (0,2)(2,2)(2,2)(1,2)(2,2)(2,2) | (0,2)(1,1)(1,2)(2,2); def 1 = empty inner list,
        // so def runs are 2×7, 1×1, 2×2.
        let prediction = try page(2)
        let rep: [UInt8] = [2, 0, 4, 2, 2, 1, 4, 2, 2, 0, 4, 1, 2, 2]
        let def: [UInt8] = [14, 2, 2, 1, 4, 2]
        let values: [Double] = [1, 2, 3, 4, 5, 6, 0.5, -1.25, 2]
        #expect(prediction.header[5]?[1]?.int == 10)
        #expect(prediction.body == le(UInt32(rep.count)) + rep + le(UInt32(def.count)) + def + values.flatMap { le($0.bitPattern) })
        let ids = try page(3)
        let idRep: [UInt8] = [2, 0, 2, 1, 2, 0, 4, 1]
        #expect(ids.body == le(UInt32(8)) + idRep + le(UInt32(2)) + [10, 1] + [10, 20, 5, 6, 9].flatMap { le(Int64($0)) })

        #expect(try readBack(bytes) == twoRows)
    }

    private func footerLength(_ bytes: [UInt8]) throws -> Int {
        let n = bytes.count
        return Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
    }

    @Test func manyRowGroupsAndPagesRoundTrip() throws {
        var random = SeededRandom(seed: 11)
        var rows: [SubmissionRow] = []
        for i in 0..<23 {
            let neurons = i == 5 ? 0 : 1 + Int(random.next() % 6)
            let frames = Int(random.next() % 40)
            rows.append(
                SubmissionRow(
                    mouse: "mouse-\(i % 3)", trialIndex: 1000 - 7 * i,
                    prediction: (0..<neurons).map { _ in
                        (0..<frames).map { _ in
                            Float(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x7F7F_FFFF) * (random.next() % 2 == 0 ? 1 : -1)
                        }
                    },
                    neuronIDs: (0..<neurons).map { _ in Int64(bitPattern: random.next()) }))
        }
        let bytes = encode(rows, rowGroupBytes: 2000, pageBytes: 300)
        let groups = try #require(try footer(bytes)[4]?.list)
        #expect(groups.count > 3, "row groups bounded by rowGroupBytes")
        #expect(groups.reduce(0) { $0 + ($1[3]?.int ?? 0) } == 23)
        // Pages end at row boundaries once pageBytes is reached: count the page headers of one chunk.
        let chunk = try #require(groups[0][1]?.list?[2][3])
        var position = Int(chunk[9]?.int ?? 0), pages = 0
        while position < Int(chunk[9]?.int ?? 0) + Int(chunk[7]?.int ?? 0) {
            var reader = ThriftCompactReader(bytes: bytes, position: position)
            let bodySize = Int(try reader.readStruct()[3]?.int ?? 0)
            position = reader.position + bodySize
            pages += 1
        }
        #expect(pages >= 2)
        #expect(try readBack(bytes) == rows, "values bit-exact, empty lists kept")
        #expect(try readBack(encode([])) == [], "an empty table is a valid file")
    }

    @Test func submissionWriterPicksParquetByExtension() throws {
        // The same rows through SubmissionWriter as .parquet and .jsonl: identical rows and identical scores.
        let dataset = try SensoriumDataset(root: TestData.root)
        let folder = TestData.scratch("parquet-submission")
        defer { try? FileManager.default.removeItem(at: folder) }
        let format = SubmissionFormat(precisionScaled: false)
        var written: [SubmissionRow] = []
        let parquet = try SubmissionWriter(url: folder.appendingPathComponent("sub.parquet"))
        let jsonl = try SubmissionWriter(url: folder.appendingPathComponent("sub.jsonl"))
        for mouse in dataset.mice {
            for id in mouse.trialIDs(inTiers: [SensoriumTier.oracle]) {
                let trial = try mouse.loadTrial(id)
                let rates = try mouse.loadRows(
                    "rates", trial: id, rows: mouse.neuronCount, padded: mouse.paddedLength, length: trial.length)
                let row = try submissionRow(prediction: rates, length: trial.length, mouse: mouse, trialID: id, format: format)
                try parquet.append(row)
                try jsonl.append(row)
                written.append(row)
            }
        }
        try parquet.finish()
        try jsonl.finish()
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["sub.jsonl", "sub.parquet"],
            "no temporary files left")
        let head = try Data(contentsOf: folder.appendingPathComponent("sub.parquet")).prefix(4)
        #expect(Array(head) == Array("PAR1".utf8))
        var read: [SubmissionRow] = []
        try readSubmission(folder.appendingPathComponent("sub.parquet")) { read.append($0) }
        #expect(read == written)
        let a = try evaluateSubmission(
            folder.appendingPathComponent("sub.parquet"), dataset: dataset, tier: SensoriumTier.oracle, format: format)
        let b = try evaluateSubmission(
            folder.appendingPathComponent("sub.jsonl"), dataset: dataset, tier: SensoriumTier.oracle, format: format)
        #expect(!a.isEmpty && a.map(\.score.singleTrialMean) == b.map(\.score.singleTrialMean))

        // Non-finite values are refused, as in JSON Lines.
        let bad = try SubmissionWriter(url: folder.appendingPathComponent("bad.parquet"))
        #expect(throws: SensoriumError.self) {
            try bad.append(SubmissionRow(mouse: "m", trialIndex: 0, prediction: [[.nan]], neuronIDs: [1]))
        }
    }

    @Test func readsPyarrowFiles() throws {
        // Optional fields, float32 values and bit-packed level runs, as pyarrow writes them.
        let rows = try readBack(Array(pyarrowPlain))
        #expect(
            rows == [
                SubmissionRow(
                    mouse: "dynamic29515-10-12", trialIndex: 7, prediction: [[1.5, -2.25, 3], [0.1, 0.2, 0.3]], neuronIDs: [10, 20]),
                SubmissionRow(mouse: "dynamic29515-10-12", trialIndex: 12, prediction: [[], [4]], neuronIDs: [10, 20]),
                SubmissionRow(mouse: "mouse-β", trialIndex: 3, prediction: [[1e-7, 65504, -0.0]], neuronIDs: [5]),
            ])
        do {
            _ = try readBack(Array(pyarrowBrotli), name: "brotli.parquet")
            Issue.record("a brotli file must be refused")
        } catch let error as SensoriumError {
            let text = "\(error)"
            #expect(text.contains("brotli.parquet") && text.contains("compression=None") && !text.contains("\n"))
        }
        do {
            _ = try readBack(Array("PAR1 not really".utf8))
            Issue.record("garbage must be refused")
        } catch let error as SensoriumError {
            #expect("\(error)".contains("not a Parquet file"))
        }
    }
}
