"""Words that never make a theme: function words and what every piece of feedback says."""

from __future__ import annotations

# Kept in code rather than a data file so it ships with the package without package-data
# settings. Besides ordinary function words it lists the words every customer uses
# ("buy", "received", "seller") - frequent everywhere, so they name no topic.
_CHINESE = """
的 了 是 我 你 他 她 它 们 我们 你们 他们 她们 这 那 这个 那个 这些 那些 这样 那样 这么 那么
一个 一些 一下 一点 一次 一直 一定 一样 一般 一起 有点 有些 有的 没有 没 不 不是 不会 不能 不要
不过 不错 很 非常 特别 比较 还是 还有 还 就是 就 也 都 又 再 才 已经 真的 真是 实在 确实 其实
可以 可能 应该 需要 觉得 感觉 认为 知道 看到 看看 发现 希望 想 想要 要 会 能 能够 让 给 把 被
在 和 与 及 或 或者 而 而且 但 但是 可是 不过 因为 所以 如果 虽然 然后 然而 而是 并且 以及 还要
请问 请 您好 你好 谢谢
什么 怎么 怎么样 为什么 哪里 哪个 多少 几 吗 吧 呢 啊 呀 哦 哈 哈哈 哈哈哈 嗯 啦 嘛 么 呵呵 额
自己 大家 人家 别人 东西 事情 时候 现在 今天 昨天 明天 以后 之前 之后 以前 后来 最后 开始 当时
这里 那里 这边 那边 地方 问题 情况 方面 一件 一天 两天 三天 几天 每次 每天 次 个 件 块 元
买 买了 购买 购物 收到 到货 下单 拿到 商品 产品 宝贝 商家 卖家 店家 店铺 本店 亲 东东 物品
还行 挺 太 最 更 好 很好 好的 比较 还好 一般般 总之 总体 总的来说 而言 来说 方面 有点儿 点
说 讲 问 用 做 去 来 到 看 听 上 下 里 中 后 前 对 从 向 跟 为 以 于 等 等等 啥 咋 呗 嘿
"""

_ENGLISH = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each few for from further
get got had has have having he her here hers him his how i if in into is it its itself just me
more most my no nor not now of off on once only or other our ours out over own same she should so
some such than that the their them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours
please thanks thank hi hello dear really still even much many one two also ok okay yes
bought buy received ordered product item seller store shop today yesterday time
"""

STOPWORDS: frozenset[str] = frozenset(_CHINESE.split()) | frozenset(_ENGLISH.split())
